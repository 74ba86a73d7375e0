"""`livegql serve --workers N --broker redis://...`: N real worker processes on one port, sharing events
through Redis, so a subscriber on one worker receives what a mutation on another publishes."""

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from itertools import dropwhile
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from livegql.broker.pubsub import BROKER_URL_ENV
from livegql.client import Client
from tests.support.redis import delete_keys, redis_url_or_skip, unique_prefix

ROOT = Path(__file__).resolve().parents[1]  # where `tests` is importable from
TARGET = "tests.support.workers_app:app"
LIMIT = 30.0  # interpreters start in every worker: generous, but bounded
READY = "Application startup complete"
SEND = "mutation($text: String!) { send(text: $text) }"
WARM_UP = "warm-up"
EVENTS = 50
CLIENTS = 16
MAX_CLIENTS = 64  # if the kernel keeps handing connections to one worker, give up after this many


@pytest.fixture
def broker() -> Iterator[str]:
    """The machine's Redis (skipped when absent, unless LIVEGQL_REQUIRE_REDIS=1) under a key prefix of this
    test's own, deleted afterwards."""
    url = redis_url_or_skip()
    prefix = unique_prefix()
    try:
        yield f"{url}{'&' if '?' in url else '?'}{urlencode({'key_prefix': prefix})}"
    finally:
        delete_keys(url, prefix)


@dataclass
class Served:
    """A running `livegql serve`: its address, and its log (stderr, where uvicorn writes) as it grows."""

    process: asyncio.subprocess.Process
    base: str  # http://host:port
    log: list[str] = field(default_factory=list)
    grew: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/graphql"

    async def wait_for_log(self, fragment: str, count: int = 1) -> None:
        async with asyncio.timeout(LIMIT):
            while sum(fragment in line for line in self.log) < count:
                if self.process.stderr is not None and self.process.stderr.at_eof():
                    raise AssertionError(f"the server ended before logging {fragment!r}:\n" + "".join(self.log))
                self.grew.clear()
                await self.grew.wait()


async def _drain(stream: asyncio.StreamReader, served: Served | None = None) -> None:
    """Keep reading so a full pipe never blocks a worker's logging; remember stderr lines."""
    async for line in stream:
        if served is not None:
            served.log.append(line.decode())
            served.grew.set()
    if served is not None:
        served.grew.set()  # EOF: wake waiters so they can tell


@asynccontextmanager
async def serving(*args: str, cwd: Path = ROOT) -> AsyncIterator[Served]:
    """`python -m livegql serve ARGS --port 0` in its own process group, stopped with Ctrl-C (or, if that
    fails, killed with every worker) however the test ends."""
    env = {name: value for name, value in os.environ.items() if name != BROKER_URL_ENV}
    pipe = asyncio.subprocess.PIPE
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "livegql", "serve", *args, "--port", "0"],
        cwd=cwd,
        env=env,
        stdout=pipe,
        stderr=pipe,
        start_new_session=True,  # its workers join its group, so one killpg reaches them all
    )
    drains: list[asyncio.Task[None]] = []
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        async with asyncio.timeout(LIMIT):
            first = (await process.stdout.readline()).decode()
        if not first:  # it ended: its stderr says why
            async with asyncio.timeout(LIMIT):
                raise AssertionError("livegql serve ended early:\n" + (await process.stderr.read()).decode())
        match = re.search(r" at (http://[\d.]+:\d+)/graphql$", first.strip())
        assert match is not None, f"unexpected first line {first!r}"
        served = Served(process, match[1])
        drains = [asyncio.create_task(_drain(process.stdout)), asyncio.create_task(_drain(process.stderr, served))]
        yield served
    finally:
        await _stop(process)
        await asyncio.gather(*drains)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
    try:
        async with asyncio.timeout(LIMIT):
            await process.wait()
    except TimeoutError:
        os.killpg(process.pid, signal.SIGKILL)  # the group we started: the CLI and its workers
        await process.wait()


@dataclass
class Subscriber:
    client: Client
    pid: int
    texts: list[str] = field(default_factory=list)
    warm: asyncio.Event = field(default_factory=asyncio.Event)
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    async def listen(self) -> None:
        async for data in self.client.subscribe("subscription { messages }"):
            self.texts.append(data["messages"])
            self.warm.set()
            if sum(text != WARM_UP for text in self.texts) == EVENTS:
                self.complete.set()
                return


async def connect_across_workers(stack: AsyncExitStack, url: str) -> list[Subscriber]:
    """CLIENTS connections (more if needed) until at least two worker processes serve them."""
    subscribers: list[Subscriber] = []
    while len(subscribers) < CLIENTS or len({s.pid for s in subscribers}) < 2:
        assert len(subscribers) < MAX_CLIENTS, f"{MAX_CLIENTS} connections all went to worker {subscribers[0].pid}"
        client = await stack.enter_async_context(Client(url, reconnect=False))
        pid = (await client.execute("{ pid }"))["pid"]
        subscribers.append(Subscriber(client, pid))
    return subscribers


async def warm_up(publisher: Client, subscribers: list[Subscriber]) -> None:
    """Publish warm-up events until every subscriber has received one: only then is each one live, and sure
    to receive every event published afterwards."""
    async with asyncio.timeout(LIMIT):
        while cold := [s for s in subscribers if not s.warm.is_set()]:
            await publisher.execute(SEND, {"text": WARM_UP})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.2):  # then publish another: it may have subscribed just after
                    await cold[0].warm.wait()


async def test_subscribers_on_every_worker_receive_events_published_on_any(broker: str) -> None:
    async with serving(TARGET, "--workers", "2", "--broker", broker) as served:
        await served.wait_for_log(READY, count=2)  # both workers, or the first would take every connection
        async with AsyncExitStack() as stack, asyncio.TaskGroup() as group:
            subscribers = await connect_across_workers(stack, served.ws_url)
            workers = sorted({s.pid for s in subscribers})
            publishers = [next(s.client for s in subscribers if s.pid == pid) for pid in workers]
            for subscriber in subscribers:
                group.create_task(subscriber.listen())
            await warm_up(publishers[0], subscribers)
            expected = [f"event {n}" for n in range(EVENTS)]
            for n, text in enumerate(expected):
                await publishers[n % len(publishers)].execute(SEND, {"text": text})
            async with asyncio.timeout(LIMIT):
                for subscriber in subscribers:
                    await subscriber.complete.wait()
        for subscriber in subscribers:
            # Warm-ups were all published before the first event, so they can only come first.
            assert list(dropwhile(lambda text: text == WARM_UP, subscriber.texts)) == expected, subscriber.pid
        async with httpx.AsyncClient(timeout=LIMIT) as http:
            health = await http.get(f"{served.base}/health")
        assert (health.status_code, health.json()) == (200, {"status": "ok", "broker": "up"})
    assert served.process.returncode == 0
    assert "Traceback" not in "".join(served.log)
    for pid in workers:  # the supervisor stopped and reaped every worker before it exited
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_a_worker_that_dies_is_replaced(broker: str) -> None:
    async with serving(TARGET, "--workers", "2", "--broker", broker) as served:
        await served.wait_for_log(READY, count=2)
        async with Client(served.ws_url, reconnect=False) as client:
            victim = (await client.execute("{ pid }"))["pid"]
        os.kill(victim, signal.SIGKILL)  # a worker of the server this test started
        await served.wait_for_log(f"Child process [{victim}] died")
        await served.wait_for_log(READY, count=3)
        for _ in range(4):  # whichever worker takes them, every connection is served
            async with Client(served.ws_url, reconnect=False) as client:
                assert (await client.execute("{ pid }"))["pid"] != victim
    assert served.process.returncode == 0


FAILING_IN_WORKERS = """
import multiprocessing

from livegql import LiveGQL

if multiprocessing.parent_process() is not None:
    raise RuntimeError("this app fails in the workers only")
app = LiveGQL("type Query { a: Int }")
"""


async def test_a_worker_that_cannot_load_the_app_stops_the_server_with_exit_1(tmp_path: Path, broker: str) -> None:
    (tmp_path / "flaky.py").write_text(FAILING_IN_WORKERS)
    async with serving("flaky:app", "--workers", "2", "--broker", broker, cwd=tmp_path) as served:
        async with asyncio.timeout(LIMIT):
            await served.process.wait()
        await served.wait_for_log("this app fails in the workers only")
    assert served.process.returncode == 1
    assert served.log[-1] == "livegql: error: a worker failed to start (its error is above)\n"
