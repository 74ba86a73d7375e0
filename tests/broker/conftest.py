"""Broker fixtures: every contract test runs over each backend (in memory, and Redis with a prefix of its own),
and `Live` subscribes and waits until the broker says the subscription is live."""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from livegql.broker.base import Backend, Subscription
from livegql.broker.memory import DEFAULT_MAX_QUEUE, MemoryBackend
from livegql.broker.redis import RedisBackend
from livegql.broker.retention import Retention
from tests.support.redis import delete_keys, redis_url_or_skip, unique_prefix

WAIT = 5.0  # seconds any single expected thing may take before the test fails

MakeBackend = Callable[..., Backend]


@pytest.fixture
def redis_url() -> str:
    return redis_url_or_skip()


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    value = unique_prefix()
    yield value
    delete_keys(redis_url, value)


@pytest.fixture(params=["memory", "redis"])
async def make_backend(request: pytest.FixtureRequest) -> AsyncIterator[MakeBackend]:
    """Builds backends of the parametrised kind (`retention`, `max_queue` as asked); closes them afterwards."""
    made: list[Backend] = []
    kind: str = request.param
    if kind == "redis":
        url, key_prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("prefix")

    def make(*, retention: Retention | None = None, max_queue: int = DEFAULT_MAX_QUEUE) -> Backend:
        backend: Backend
        if kind == "memory":
            backend = MemoryBackend(max_queue=max_queue, retention=retention or Retention())
        else:
            backend = RedisBackend(url, retention=retention or Retention(), max_queue=max_queue, key_prefix=key_prefix)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.close()


@pytest.fixture
def backend(make_backend: MakeBackend) -> Backend:
    return make_backend()


class Live:
    """A subscription whose first `__anext__` is already running: created by `Live.open`, which returns once
    the broker called `on_live` (or the first `__anext__` failed, whose error it raises)."""

    def __init__(self, subscription: Subscription, started: "asyncio.Future[str]") -> None:
        self.subscription = subscription
        self.started = started
        self.starts: list[str] = []
        self.first: asyncio.Future[Any] | None = None

    @classmethod
    async def open(cls, backend: Backend, topic: str, *, after: str | None = None) -> "Live":
        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        live: Live

        def on_live(position: str) -> None:
            live.starts.append(position)
            if not started.done():
                started.set_result(position)

        live = cls(backend.subscribe(topic, after=after, on_live=on_live), started)
        live.first = asyncio.ensure_future(anext(live.subscription))
        await asyncio.wait([started, live.first], timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        if live.first.done() and not started.done():
            live.first.result()  # raises the first __anext__'s error
            raise AssertionError("an event came before on_live")
        assert started.done(), f"{topic!r} not live within {WAIT}s"
        return live

    @property
    def start(self) -> str:
        return self.started.result()

    async def next(self) -> Any:
        """The next payload, within WAIT seconds."""
        async with asyncio.timeout(WAIT):
            if self.first is not None:
                first, self.first = self.first, None
                return await first
            return await anext(self.subscription)

    async def take(self, count: int) -> list[Any]:
        return [await self.next() for _ in range(count)]

    async def aclose(self) -> None:
        first, self.first = self.first, None
        if first is not None and not first.done():
            first.cancel()
            await asyncio.wait([first])
        await self.subscription.aclose()


def position_key(position: str) -> tuple[int, ...]:
    """Both brokers hand out `<int>-<int>` positions; compared as numbers, never as text."""
    return tuple(int(part) for part in position.split("-"))


def beyond(position: str) -> str:
    """A well-formed position far after `position` in both brokers (same first part, larger second)."""
    first, second = position.split("-")
    return f"{first}-{int(second) + 1_000_000}"
