"""A schema whose slow parts wait for the test: each `Hold` is a resolver step that blocks until released, and
records whether it started, finished or was stopped (cancelled, or its generator closed) before that.

The server runs on its own loop in another thread: a hold's gate is set there (`release`), and the test waits
for its flags with a bounded thread wait, never by sleeping.
"""

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLResolveInfo

from livegql import LiveGQL
from tests.support.server import LiveServer

WAIT = 5.0
SECRET = "secret database password leaked"

SDL = """
type Query {
  hello: String!
  held(key: String!): String
  broken: String
  brokenRequired: String!
  letters(key: String): [String!]!
}
type Subscription {
  ticks: Int!
}
"""


class Hold:
    def __init__(self, key: str) -> None:
        self.key = key
        self.gate = asyncio.Event()  # bound to the server's loop when first awaited there
        self.started = threading.Event()
        self.finished = threading.Event()
        self.stopped = threading.Event()

    async def wait(self) -> None:
        """On the server's loop: block until released; a cancellation or close on the way is recorded."""
        self.started.set()
        try:
            await self.gate.wait()
        except BaseException:
            self.stopped.set()
            raise
        self.finished.set()

    def release(self, server: LiveServer) -> None:
        server.loop.call_soon_threadsafe(self.gate.set)

    async def until_started(self) -> None:
        assert await asyncio.to_thread(self.started.wait, WAIT), f"hold {self.key} never started"

    async def until_stopped(self) -> None:
        assert await asyncio.to_thread(self.stopped.wait, WAIT), f"hold {self.key} was never stopped"


class Holds:
    """The holds of one server, by key; each test takes fresh ones."""

    def __init__(self) -> None:
        self._holds: dict[str, Hold] = {}
        self._keys = (f"h{n}" for n in itertools.count())

    def new(self) -> Hold:
        hold = Hold(next(self._keys))
        self._holds[hold.key] = hold
        return hold

    def __getitem__(self, key: str) -> Hold:
        return self._holds[key]


def make_app(holds: Holds, **settings: Any) -> LiveGQL:
    async def held(_: Any, __: GraphQLResolveInfo, key: str) -> str:
        await holds[key].wait()
        return f"released {key}"

    def broken(_: Any, __: GraphQLResolveInfo) -> str:
        raise RuntimeError(SECRET)

    async def letters(_: Any, __: GraphQLResolveInfo, key: str | None = None) -> AsyncIterator[str]:
        yield "a"
        if key is not None:
            await holds[key].wait()
        yield "b"
        yield "c"

    async def ticks(_: Any, __: GraphQLResolveInfo) -> AsyncIterator[int]:
        yield 1

    resolvers: dict[str, dict[str, Any]] = {
        "Subscription": {"ticks": ticks},
        "Query": {
            "hello": lambda *_: "world",
            "held": held,
            "broken": broken,
            "brokenRequired": broken,
            "letters": letters,
        },
    }
    return LiveGQL(SDL, resolvers=resolvers, keepalive_interval=None, **settings)
