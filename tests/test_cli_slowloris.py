"""Slowloris against `livegql serve`: connections that never finish their first request head (or send nothing)
are closed at the first-request deadline, and WebSockets that never send `connection_init` at its own timeout
(4408), while well-behaved clients keep their latency. Without the deadline (`--first-request-timeout` far away)
the same sockets stay open: the test sees the difference.

CI runs 200 stalled sockets; the documented full size (docs/benchmarks.md) is
`LIVEGQL_SLOWLORIS_SOCKETS=1000 .venv/bin/pytest -s tests/test_cli_slowloris.py`.
"""

import asyncio
import os
import re
import signal
import statistics
import sys
import time
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from livegql import Settings
from livegql.protocol.codes import CloseCode
from tests.scale.descriptors import descriptors
from tests.test_cli import LIMIT, SCHEMA_MODULE, read_line

SLOW_CLIENTS = int(os.environ.get("LIVEGQL_SLOWLORIS_SOCKETS", "200"))
DEADLINE = 1.0  # --first-request-timeout of the test server
INIT_TIMEOUT = Settings().connection_init_wait_timeout  # a WebSocket's time for `connection_init` (3 s)
CLOSE_SLACK = 5.0  # how much later than its deadline a socket may close (opening them all, 1,000 closes at once)
# After its Close (4408), uvicorn's WebSocket protocol would keep the TCP connection open 10 s for the client's
# Close; livegql aborts it after `close_timeout` instead (5 s): the socket and its descriptor go at 8 s, not 13 s.
CLOSE_TIMEOUT = Settings().close_timeout
TCP_SLACK = 2.5  # below uvicorn's 10 s wait minus close_timeout: a TCP connection let go only by uvicorn fails
CLOSE_LIMIT = INIT_TIMEOUT + CLOSE_TIMEOUT + CLOSE_SLACK + 10.0  # bound on waiting for them all
LEGIT_CLIENTS = 4  # each sends `{ hello }` on a fresh connection, paced, one request after the other
LEGIT_INTERVAL = 0.02  # seconds between one legitimate client's requests (200 requests/s in all)
BASELINE_REQUESTS = 100  # per legitimate client, before the attack (2 s)
LATENCY_FACTOR, LATENCY_FLOOR = 10.0, 0.5  # p99 under attack must stay below max(factor x baseline, floor s)
REQUEST_LIMIT = 10.0

BODY = b'{"query": "{ hello }"}'
REQUEST = (
    b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
)
ANSWER = b'{"data":{"hello":"from a schema"}}'
PARTIAL_HEAD = b"POST /graphql HTTP/1.1\r\nHost: x\r\n"  # the blank line that would end the head never comes
UPGRADE = (
    b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
)
KINDS = {"nothing": b"", "partial head": PARTIAL_HEAD, "no connection_init": UPGRADE}


@dataclass
class Stalled:
    kind: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    began: float  # when the attack began (time.monotonic()): the server's timers start after it
    received: bytes = b""
    close_frame_after: float = field(default=float("inf"))  # seconds from `began` to the server's Close frame
    closed_after: float = field(default=float("inf"))  # and to the end of the TCP connection
    refused: asyncio.Event = field(default_factory=asyncio.Event)  # its Close frame or the end came


async def hold_open(port: int, kind: str, began: float) -> Stalled:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    stalled = Stalled(kind, reader, writer, began)
    if KINDS[kind]:
        writer.write(KINDS[kind])
        await writer.drain()
    return stalled


async def closed_by_server(stalled: Stalled) -> None:
    """Read until the server closes the connection; record what it sent and when it closed."""
    try:
        while chunk := await stalled.reader.read(4096):
            stalled.received += chunk
            if not stalled.refused.is_set() and close_code(stalled.received) is not None:
                stalled.close_frame_after = time.monotonic() - stalled.began
                stalled.refused.set()
    except ConnectionError:
        pass
    stalled.closed_after = time.monotonic() - stalled.began
    stalled.refused.set()
    stalled.writer.close()


@dataclass
class Served:
    port: int
    code: int | None = None  # the exit code, once stopped


@asynccontextmanager
async def served(tmp_path: Path, *options: str) -> AsyncIterator[Served]:
    """`livegql serve` of a schema, stopped with Ctrl-C on exit. uvicorn logs every connection and request, and a
    full pipe would block the server mid-test: its access log (stdout) is drained, the rest goes to a file."""
    (tmp_path / "chatapp.py").write_text(SCHEMA_MODULE)
    command = [sys.executable, "-m", "livegql", "serve", "chatapp:schema", "--port", "0", *options]
    with (tmp_path / "server.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(*command, cwd=tmp_path, stdout=PIPE, stderr=log)
    try:
        line = await read_line(process)
        match = re.fullmatch(r"livegql: serving chatapp:schema at http://127\.0\.0\.1:(\d+)/graphql", line)
        assert match is not None, line
        server = Served(int(match[1]))
        assert process.stdout is not None
        async with asyncio.TaskGroup() as group:
            group.create_task(process.stdout.read())  # to EOF, when the server exits
            try:
                yield server
            finally:
                process.send_signal(signal.SIGINT)
                async with asyncio.timeout(LIMIT):
                    server.code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def timed_request(port: int) -> float:
    """Seconds for one `{ hello }` on a new connection: connect, request, the whole answer."""
    began = time.perf_counter()
    async with asyncio.timeout(REQUEST_LIMIT):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST)
        answer = await reader.read()  # to EOF: the request asked for Connection: close
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert answer.endswith(ANSWER), answer[:300]
    return time.perf_counter() - began


async def legit_clients(port: int, samples: list[float], *, requests: int = 0, until: asyncio.Event) -> None:
    """LEGIT_CLIENTS clients, each starting a request every LEGIT_INTERVAL (or as soon as its previous one ends,
    if later), `requests` each or until `until` is set: a steady load, so that latency, not throughput, is what
    the attack could change."""

    async def client() -> None:
        began, sent = time.monotonic(), 0
        while sent < requests if requests else not until.is_set():
            # Pacing, not synchronisation: without it the clients would flood the server themselves.
            await asyncio.sleep(max(0.0, began + sent * LEGIT_INTERVAL - time.monotonic()))
            samples.append(await timed_request(port))
            sent += 1

    async with asyncio.TaskGroup() as group:
        for _ in range(LEGIT_CLIENTS):
            group.create_task(client())


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


async def attack(port: int, legit: list[float]) -> list[Stalled]:
    """Open SLOW_CLIENTS stalled sockets (of each kind in turn) while the legitimate clients keep requesting,
    until the server has refused them all (closed, or sent its Close frame); then wait for every TCP close."""
    done = asyncio.Event()
    kinds, began = list(KINDS), time.monotonic()
    async with asyncio.timeout(CLOSE_LIMIT), asyncio.TaskGroup() as group:
        group.create_task(legit_clients(port, legit, until=done))
        try:
            slow = await asyncio.gather(*(hold_open(port, kinds[n % len(kinds)], began) for n in range(SLOW_CLIENTS)))
            for stalled in slow:
                group.create_task(closed_by_server(stalled))
            await asyncio.gather(*(stalled.refused.wait() for stalled in slow))
        finally:
            done.set()  # the legitimate clients measured the attack; the group still waits for the TCP closes
    return slow


def close_code(received: bytes) -> int | None:
    """The code of the Close frame that follows a 101 answer (the server sends nothing else first), or None."""
    head, _, frame = received.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101") or len(frame) < 4 or frame[0] != 0x88:  # FIN + opcode Close
        return None
    return int.from_bytes(frame[2:4], "big")


def check_closed_on_time(slow: list[Stalled]) -> str:
    """Every stalled socket closed by its deadline's timer, not before and not much after; a summary.

    A WebSocket that never sent `connection_init` gets its Close (4408) at INIT_TIMEOUT; its TCP connection is
    aborted CLOSE_TIMEOUT later, the client's Close never having come."""
    parts = []
    for kind in KINDS:
        mine = [stalled for stalled in slow if stalled.kind == kind]
        websocket = kind == "no connection_init"
        deadline = INIT_TIMEOUT if websocket else DEADLINE
        after = [stalled.close_frame_after if websocket else stalled.closed_after for stalled in mine]
        # Each server timer starts once it accepted (or upgraded) its socket, after the attack began.
        assert min(after) >= deadline - 0.01, (kind, min(after))
        assert max(after) <= deadline + CLOSE_SLACK, (kind, max(after))
        parts.append(f"{len(mine)} {kind}: closed at {min(after):.2f}-{max(after):.2f} s (deadline {deadline:.1f} s)")
        if websocket:
            assert all(close_code(s.received) == CloseCode.CONNECTION_INITIALISATION_TIMEOUT for s in mine)
            tcp = max(stalled.closed_after for stalled in mine)
            assert tcp <= deadline + CLOSE_TIMEOUT + TCP_SLACK, tcp
            parts[-1] += f" with 4408, TCP gone by {tcp:.2f} s"
        else:
            assert all(stalled.received == b"" for stalled in mine)  # closed without an answer
    return "; ".join(parts)


async def test_stalled_sockets_are_closed_on_time_while_clients_keep_their_latency(tmp_path: Path) -> None:
    baseline: list[float] = []
    under_attack: list[float] = []
    after: list[float] = []
    with descriptors(SLOW_CLIENTS + 200):
        async with served(tmp_path, "--first-request-timeout", str(DEADLINE)) as server:
            await legit_clients(server.port, baseline, requests=BASELINE_REQUESTS, until=asyncio.Event())
            slow = await attack(server.port, under_attack)
            await legit_clients(server.port, after, requests=BASELINE_REQUESTS, until=asyncio.Event())
    assert server.code == 0
    closes = check_closed_on_time(slow)
    (base_p50, base_p99), (p50, p99), (after_p50, after_p99) = map(percentiles, (baseline, under_attack, after))
    print(
        f"slowloris: {SLOW_CLIENTS} stalled sockets, all closed (times from the attack's start): {closes}; "
        f"legitimate {{ hello }} on a new connection, p50/p99: {base_p50:.1f}/{base_p99:.1f} ms without attack "
        f"({len(baseline)} requests), "
        f"{p50:.1f}/{p99:.1f} ms under attack ({len(under_attack)}, max {max(under_attack) * 1000:.1f} ms), "
        f"{after_p50:.1f}/{after_p99:.1f} ms after it"
    )
    assert len(under_attack) >= LEGIT_CLIENTS  # the clients were served all along (each request checked)
    assert p99 / 1000 < max(LATENCY_FACTOR * base_p99 / 1000, LATENCY_FLOOR), (base_p99, p99)


async def test_without_a_near_deadline_such_clients_stay_connected(tmp_path: Path) -> None:
    async with served(tmp_path, "--first-request-timeout", "600") as server:
        stalled = await hold_open(server.port, "partial head", time.monotonic())
        # Still open well after DEADLINE: the read times out instead of seeing the server close.
        try:
            async with asyncio.timeout(DEADLINE * 3):
                await stalled.reader.read(1)
            raise AssertionError("the server closed a connection it had no deadline for")
        except TimeoutError:
            pass
        stalled.writer.close()
