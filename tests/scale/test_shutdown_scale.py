"""Graceful shutdown with C clients mid-stream: nothing accepted is lost.

C graphql-transport-ws clients (the load generator's lean raw client) share one subscription on one `livegql
serve` process while a publisher sends mutations back to back; SIGTERM arrives mid-stream. Every event whose
mutation was answered (accepted) must reach every client before its socket closes with 1012, and the process
must exit within the grace period. Mutations still in flight at SIGTERM finish and count as accepted.

CI runs 2,000 clients; another size is `LIVEGQL_SHUTDOWN_CLIENTS=10000 .venv/bin/pytest -s
tests/scale/test_shutdown_scale.py` (docs/benchmarks.md).
"""

import asyncio
import os
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from bench.load.session import open_session, open_sessions
from bench.load.ws import WebSocketClient

from tests.scale.descriptors import descriptors
from tests.support.processes import ServerProcess, serve_process

CLIENTS = int(os.environ.get("LIVEGQL_SHUTDOWN_CLIENTS", "2000"))
BEFORE_SIGTERM = 30  # events accepted before the signal: the stream is well under way
GRACE = 20.0  # generous: the drain must end long before it (see the exit-time check)
CONCURRENCY = 200  # handshakes in flight while connecting
SERVICE_RESTART = 1012
TARGET = "tests.support.shutdown_app:app"
SUBSCRIBE = orjson.dumps(
    {
        "id": "s",
        "type": "subscribe",
        "payload": {"query": 'subscription { events(topic: "m") { seq } }', "extensions": {"acknowledge": True}},
    }
)
PUBLISH = 'mutation($seq: Int!) { publish(topic: "m", seq: $seq) }'
_DRAIN_LINE = re.compile(r"Drained: (\d+) sessions ended, (\d+) cut, in ([\d.]+) s")

pytestmark = pytest.mark.timeout(120 + CLIENTS / 50)


@dataclass
class Subscriber:
    """One client's view: acknowledged once, then each event's seq in arrival order."""

    client: WebSocketClient
    live: asyncio.Future[None]
    seqs: list[int] = field(default_factory=list)

    def on_message(self, raw: bytes) -> None:
        message = orjson.loads(raw)
        if message.get("type") != "next":
            return
        payload = message["payload"]
        if (payload.get("extensions") or {}).get("subscribed"):
            self.live.set_result(None)
        else:
            self.seqs.append(payload["data"]["events"]["seq"])


@dataclass
class Publisher:
    """Mutations one after another on one socket; `accepted` are those whose result came back."""

    client: WebSocketClient
    accepted: list[int] = field(default_factory=list)
    _answer: asyncio.Future[bool] | None = None

    def on_message(self, raw: bytes) -> None:
        message = orjson.loads(raw)
        if self._answer is not None and not self._answer.done() and message.get("type") in ("next", "error"):
            self._answer.set_result(message["type"] == "next" and "errors" not in message["payload"])

    async def run(self, reached: asyncio.Event) -> None:
        seq = 0
        while not self.client.closed.done():
            self._answer = asyncio.get_running_loop().create_future()
            payload = {"query": PUBLISH, "variables": {"seq": seq}}
            self.client.send_text(orjson.dumps({"id": f"p{seq}", "type": "subscribe", "payload": payload}))
            either: list[asyncio.Future[Any]] = [self._answer, self.client.closed]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if self._answer.done() and self._answer.result():
                self.accepted.append(seq)
            if len(self.accepted) >= BEFORE_SIGTERM:
                reached.set()
            seq += 1


async def subscribe_all(host: str, port: int, path: str) -> list[Subscriber]:
    clients = await open_sessions(host, port, path, CLIENTS, CONCURRENCY)
    loop = asyncio.get_running_loop()
    subscribers = [Subscriber(client, loop.create_future()) for client in clients]
    for subscriber in subscribers:
        subscriber.client.on_message = subscriber.on_message
        subscriber.client.send_text(SUBSCRIBE)
    async with asyncio.timeout(60):
        await asyncio.gather(*(subscriber.live for subscriber in subscribers))
    return subscribers


async def run(server: ServerProcess) -> dict[str, Any]:
    host, _, port_text = server.address.rpartition(":")
    port = int(port_text)
    started = time.monotonic()
    subscribers = await subscribe_all(host, port, server.path)
    subscribed_s = time.monotonic() - started
    publisher = Publisher(await open_session(host, port, server.path))
    publisher.client.on_message = publisher.on_message
    reached = asyncio.Event()
    publishing = asyncio.ensure_future(publisher.run(reached))
    async with asyncio.timeout(60):
        await reached.wait()
    signalled, at_signal = time.monotonic(), len(publisher.accepted)
    server.process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(GRACE + 10):
        codes = await asyncio.gather(*(subscriber.client.closed for subscriber in subscribers))
        await publishing
        exit_code = await asyncio.to_thread(server.process.wait)
    exited_s = time.monotonic() - signalled
    accepted = publisher.accepted
    wanted = set(accepted)
    lost = sum(len(wanted - set(subscriber.seqs)) for subscriber in subscribers)
    return {
        "clients": CLIENTS,
        "subscribed_s": subscribed_s,
        "accepted": len(accepted),
        "accepted_after_sigterm": len(accepted) - at_signal,
        "deliveries": sum(len(subscriber.seqs) for subscriber in subscribers),
        "lost": lost,
        "in_order": all(subscriber.seqs == sorted(set(subscriber.seqs)) for subscriber in subscribers),
        "codes": dict(Counter(codes)),
        "exit_code": exit_code,
        "exited_s": exited_s,
    }


def test_shutdown_with_clients_mid_stream_loses_nothing_accepted(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with descriptors(CLIENTS + 1000), serve_process(TARGET, "--grace-period", str(GRACE), log=log) as server:
        result = asyncio.run(run(server))
    drained = _DRAIN_LINE.search(log.read_text())
    print(  # the figures docs/benchmarks.md records (-s shows them)
        f"\nshutdown: {result['clients']} clients subscribed in {result['subscribed_s']:.1f} s; "
        f"{result['accepted']} events accepted ({result['accepted_after_sigterm']} answered after SIGTERM), "
        f"{result['deliveries']:,} delivered, {result['lost']} lost; "
        f"close codes {result['codes']}; drain {drained.group(0) if drained else '?'}; "
        f"process exited {result['exited_s']:.2f} s after SIGTERM (grace {GRACE:g} s)"
    )
    assert result["accepted"] >= BEFORE_SIGTERM
    assert result["lost"] == 0, result
    assert result["in_order"], result
    assert result["codes"] == {SERVICE_RESTART: CLIENTS}, result
    assert result["exit_code"] == -signal.SIGTERM
    # Well within the grace period: a client that keeps sending operations cannot hold the drain open.
    assert result["exited_s"] < GRACE / 2, result
    assert drained is not None, log.read_text()[-2000:]
    assert drained.group(2) == "0", drained.group(0)  # no client had to be cut
