"""A real uvicorn server on an ephemeral loopback port, in its own thread and event loop."""

import asyncio
import socket
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import uvicorn
from starlette.types import ASGIApp

from livegql import LiveGQL

T = TypeVar("T")
START_TIMEOUT = 10.0


@dataclass
class LiveServer:
    app: LiveGQL
    port: int
    loop: asyncio.AbstractEventLoop

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.app.settings.path}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.app.settings.path}"

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run a coroutine on the server's loop (its PubSub and tasks live there) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def acall(self, coroutine: Coroutine[Any, Any, T], limit: float = 10.0) -> T:
        """`call` for async tests: waits without blocking the test's own loop."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        async with asyncio.timeout(limit):
            return await asyncio.wrap_future(future)

    def server_tasks(self) -> int:
        """Tasks alive on the server loop, not counting uvicorn's own serve task and this probe."""

        async def count() -> int:
            current = asyncio.current_task()
            return sum(1 for task in asyncio.all_tasks() if task is not current and not task.done())

        return self.call(count())


async def subscribers(server: LiveServer, topic: str | None = None) -> int:
    """The server PubSub's subscriber count, read on the server's loop where it lives."""

    async def count() -> int:
        return server.app.pubsub.subscriber_count(topic)

    return await server.acall(count())


@contextmanager
def serve(app: LiveGQL, port: int = 0, **config: Any) -> Iterator[LiveServer]:
    """Start uvicorn on 127.0.0.1 (an ephemeral port unless `port` is given) serving `app`; stop it on exit."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **config)
    )
    ready = threading.Event()
    holder: dict[str, asyncio.AbstractEventLoop] = {}

    async def main() -> None:
        holder["loop"] = asyncio.get_running_loop()
        serving = asyncio.ensure_future(server.serve())
        # uvicorn exposes no started event, only this flag; the poll is bounded by START_TIMEOUT.
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        ready.set()
        await serving

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    if not ready.wait(START_TIMEOUT) or not server.started:
        raise RuntimeError("uvicorn did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(app=app, port=port, loop=holder["loop"])
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)


SITE_STOP_TIMEOUT = 10.0


@contextmanager
def serve_asgi(app: ASGIApp, lifespan: Literal["on", "off"] = "off") -> Iterator[int]:
    """Serve any ASGI `app` with uvicorn on 127.0.0.1 and yield its port. The socket listens before uvicorn
    starts, so a client (a browser) may connect at once: it waits in the backlog, and nothing waits for a start."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(SITE_STOP_TIMEOUT)
        listener.close()
        assert not thread.is_alive(), "the server did not stop"
