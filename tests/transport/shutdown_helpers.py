"""The app the graceful-shutdown tests serve: a topic subscription, a publish mutation, and a query that runs
until the test releases it (so a drain provably waits for it)."""

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLResolveInfo

from livegql import LiveGQL, PubSub
from livegql.transport.shutdown import DrainReport, draining
from tests.support.server import LiveServer

SDL = """
type Query { hello: String!  slow: String! }
type Mutation { publish(topic: String!, text: String!): Boolean! }
type Subscription { topic(name: String!): String! }
"""
WATCH = "subscription($name: String!) { topic(name: $name) }"
WAIT = 5.0


@dataclass
class Gate:
    """`slow` reports that it started (to the test's thread), then waits until the test opens the gate."""

    started: threading.Event = field(default_factory=threading.Event)
    _opened: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def wait(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._opened = asyncio.Event()
        self.started.set()
        await self._opened.wait()

    async def until_started(self) -> None:
        assert await asyncio.to_thread(self.started.wait, WAIT), "the slow query did not start"

    def open(self) -> None:
        assert self._loop is not None
        assert self._opened is not None
        self._loop.call_soon_threadsafe(self._opened.set)


def make_app(gate: Gate, pubsub: PubSub | None = None, **settings: Any) -> LiveGQL:
    async def slow(_: Any, __: GraphQLResolveInfo) -> str:
        await gate.wait()
        return "done"

    async def publish(_: Any, info: GraphQLResolveInfo, topic: str, text: str) -> bool:
        await info.context["pubsub"].publish(topic, text)
        return True

    async def topic(_: Any, info: GraphQLResolveInfo, name: str) -> AsyncIterator[str]:
        async for text in info.context["pubsub"].subscribe(name):
            yield text

    resolvers: dict[str, dict[str, Any]] = {
        "Query": {"hello": lambda *_: "hi", "slow": slow},
        "Mutation": {"publish": publish},
        "Subscription": {"topic": topic},
    }
    settings.setdefault("keepalive_interval", None)
    return LiveGQL(SDL, resolvers=resolvers, pubsub=pubsub or PubSub(), **settings)


async def publish_then_drain(
    server: LiveServer, topic: str, count: int, grace: float = WAIT, size: int = 0
) -> DrainReport:
    """On the server's loop: publish `count` events (padded to `size` characters), then drain at once: most are
    still in the broker's queue or the hub when the drain begins."""

    async def run() -> DrainReport:
        for index in range(count):
            await server.app.pubsub.publish(topic, str(index).ljust(size))
        return await server.app.shutdown(grace)

    return await server.acall(run(), limit=grace + WAIT)


def start_drain(server: LiveServer, grace: float = WAIT) -> "asyncio.Future[DrainReport]":
    """Begin draining the server's app; the future resolves with its report."""
    future = asyncio.run_coroutine_threadsafe(server.app.shutdown(grace), server.loop)
    return asyncio.wrap_future(future)


async def is_draining(server: LiveServer) -> bool:
    async def read() -> bool:
        return draining(server.app.runtime)

    return await server.acall(read())
