"""One fuzz server per module: the test schema with an `on_connect` that refuses on request, small body limits,
and the checks that run after each transport's fuzzing: no error logged, nothing leaked."""

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterator, Mapping
from typing import Any, TypeVar

import httpx
import pytest
from starlette.requests import HTTPConnection

from livegql import ConnectionRejectedError, LiveGQL, PubSub, Settings
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve
from tests.support.waiting import until

T = TypeVar("T")
REJECT_PARAM = "reject"
# The test schema's resolvers fail on purpose (`boom`, `failing`): logged, masked, and no sign of a bug.
RESOLVER_FAILURES = frozenset({"secret database password leaked", "source broke"})
WATCHED_LOGGERS = ("livegql", "uvicorn", "asyncio")  # uvicorn.error and uvicorn.asgi propagate to uvicorn
# The limits the fuzz hits on purpose, small enough that a too-large frame costs little to send.
FUZZ_SETTINGS = Settings(keepalive_interval=None, max_body_bytes=16 * 1024, sse_reservation_timeout=30.0)


def on_connect(params: dict[str, Any], request: HTTPConnection) -> Mapping[str, Any]:
    """Admits everyone, except a connection_init whose payload asks to be refused (the 4403 path)."""
    if params.get(REJECT_PARAM) is True:
        raise ConnectionRejectedError("refused on request")
    return {"user": "fuzzer"}


LAST_TASKS: list[str] = []  # the server's tasks when last counted: named in a leak's report


class ErrorLog(logging.Handler):
    """Every record at ERROR or above from the server's loggers: an unhandled exception shows up here."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RuntimeError) and str(error) in RESOLVER_FAILURES:
            return
        self.records.append(record)

    def report(self) -> str:
        return "\n".join(f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in self.records[:5])


class ClientLoop:
    """A client event loop in its own thread: each hypothesis example (a sync call) runs a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        # One client for every HTTP example: its pool keeps connections open (and builds its SSL context once).
        self.http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=50))

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.http.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[LiveServer]:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=PubSub(), on_connect=on_connect, settings=FUZZ_SETTINGS)
    with serve(app) as live:
        yield live


@pytest.fixture(scope="module")
def client_loop() -> Iterator[ClientLoop]:
    loop = ClientLoop()
    yield loop
    loop.close()


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.fixture
def clean_server(fuzz_server: LiveServer, error_log: ErrorLog, client_loop: ClientLoop) -> Iterator[LiveServer]:
    """The fuzz server, checked after the test: no error logged, and once every client is gone no session,
    connection slot, reservation, hub stream, broker subscriber or task is left behind."""
    baseline = fuzz_server.server_tasks()
    yield fuzz_server
    client_loop.run(settled(fuzz_server, baseline), timeout=60)
    assert not error_log.records, error_log.report()


def leftovers(server: LiveServer, baseline: int) -> dict[str, int]:
    """What the server still holds, read on its loop; all zero when nothing leaked."""

    async def read() -> dict[str, int]:
        app = server.app
        current = asyncio.current_task()
        running = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
        tasks = len(running)
        LAST_TASKS[:] = [repr(task.get_coro()) for task in running]
        return {
            "sessions": len(app.runtime.sessions),
            "connections": app.runtime.connections.total,
            "reservations": len(app._http.single),
            "subscription streams": app.subscriptions.stream_count,
            "live queries": app.live.query_count,
            "broker subscribers": app.pubsub.subscriber_count(),
            "tasks over baseline": max(0, tasks - baseline),
        }

    return server.call(read())


async def settled(server: LiveServer, baseline: int) -> None:
    """Wait (bounded) until nothing is left; fail naming what leaked."""
    seen: dict[str, int] = {}

    async def clean() -> bool:
        seen.update(await asyncio.to_thread(leftovers, server, baseline))
        return not any(seen.values())

    try:
        await until(clean, limit=20, what="the server to release everything")
    except AssertionError:
        leaked = {k: v for k, v in seen.items() if v}
        raise AssertionError(f"leaked after fuzzing: {leaked}; server tasks: {LAST_TASKS}") from None
