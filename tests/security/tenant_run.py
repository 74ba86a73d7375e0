"""One isolation round over real brokers: every tenant subscribes to every topic (and to its own live-query
invalidations), publishes to each, then resumes each; every payload received is checked against its reader."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from livegql import PubSub
from livegql.broker import INVALIDATION_TOPIC, Subscription, subscription_scope
from livegql.broker.redis import RedisBackend
from tests.security.tenant_topics import Universe, dedupe_partner_key, short
from tests.support.redis import delete_keys, unique_prefix

WAIT = 10.0
"""Seconds for every subscription to be live."""

DELIVERY_WAIT = 5.0
"""Seconds for every reader to see its sentinel once everything is published (a missing one fails the test)."""

INVALIDATIONS = -1
"""The topic index standing for a tenant's reserved invalidation topic."""

Reader = tuple[int, int]  # (tenant index, topic index)


@dataclass
class Tally:
    """What the rounds checked: readers, payloads received, and how many of those were someone else's."""

    examples: int = 0
    readers: int = 0
    deliveries: int = 0
    cross: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def check(self, reader: Reader, received: list[str], ended: bool, expected: list[str], topic: str) -> None:
        self.readers += 1
        self.deliveries += len(received) + ended  # the sentinel ends every reader
        foreign = [text for text in received if not text.startswith(f"{reader[0]}|{reader[1]}|")]
        where = f"tenant {reader[0]} topic {short(topic)}"
        self.cross += [f"{where} got {text}" for text in foreign]
        if received != expected or not ended:
            self.wrong.append(f"{where}: expected {expected} and the sentinel, got {received} (sentinel: {ended})")

    def add(self, other: "Tally") -> None:
        self.examples += other.examples
        self.readers += other.readers
        self.deliveries += other.deliveries
        self.cross += other.cross
        self.wrong += other.wrong


def text_of(value: Any) -> str:
    """A payload as its text (invalidations arrive as a list of keys)."""
    return str(value[0] if isinstance(value, list) else value)


async def read_into(subscription: Subscription, sentinel: str, sink: list[str]) -> None:
    """Append every payload to `sink` until `sentinel` (returns) or the end of the stream (raises)."""
    async for value in subscription:
        if (text := text_of(value)) == sentinel:
            return
        sink.append(text)
    raise AssertionError(f"the stream ended before {sentinel!r}")


class Round:
    """Publishes `<tenant>|<topic>|<n>` to each tenant's topics, then `<tenant>|<topic>|end`."""

    def __init__(self, tenants: list[PubSub], universe: Universe, tally: Tally) -> None:
        self.tenants, self.topics, self.tally = tenants, universe.topics, tally
        self.readers: list[Reader] = [(i, j) for i in range(len(tenants)) for j in range(-1, len(self.topics))]

    def topic(self, reader: Reader) -> str:
        return INVALIDATION_TOPIC if reader[1] == INVALIDATIONS else self.topics[reader[1]]

    async def publish(self, reader: Reader, label: str) -> str | None:
        text, pubsub = f"{reader[0]}|{reader[1]}|{label}", self.tenants[reader[0]]
        if reader[1] == INVALIDATIONS:
            await pubsub.invalidate(text)
            return None
        number = 0 if label == "end" else int(label) + 1
        key = dedupe_partner_key(self.topic(reader), number, self.topics)
        return await pubsub.publish(self.topic(reader), text, idempotency_key=key)

    async def live_phase(self) -> dict[Reader, str]:
        """Everyone subscribed and live, two events and a sentinel each; returns each first event's position."""
        live, everyone_live = 0, asyncio.Event()

        def went_live(_position: str) -> None:
            nonlocal live
            live += 1
            if live == len(self.readers):
                everyone_live.set()

        sinks: dict[Reader, list[str]] = {reader: [] for reader in self.readers}
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(subscription_scope(on_live=went_live))
            tasks = {}
            for reader in self.readers:
                subscription = self._subscribe(reader, went_live)
                stack.push_async_callback(subscription.aclose)
                tasks[reader] = self._reader(subscription, reader, sinks[reader])
            async with asyncio.timeout(WAIT):
                await everyone_live.wait()
            firsts = {reader: await self.publish(reader, "0") for reader in self.readers}
            for label in ("1", "end"):
                for reader in self.readers:
                    await self.publish(reader, label)
            ended = await _finish(tasks)
        for reader in self.readers:
            expected = [f"{reader[0]}|{reader[1]}|{n}" for n in (0, 1)]
            self.tally.check(reader, sinks[reader], reader in ended, expected, self.topic(reader))
        return {reader: position for reader, position in firsts.items() if position is not None}

    def _subscribe(self, reader: Reader, went_live: Callable[[str], None]) -> Subscription:
        pubsub = self.tenants[reader[0]]
        if reader[1] == INVALIDATIONS:  # reserved: only the live-query engine subscribes to it, through the backend
            return pubsub.backend.subscribe(INVALIDATION_TOPIC, on_live=went_live)
        return pubsub.subscribe(self.topic(reader))

    @staticmethod
    def _reader(subscription: Subscription, reader: Reader, sink: list[str]) -> "asyncio.Task[None]":
        return asyncio.ensure_future(read_into(subscription, f"{reader[0]}|{reader[1]}|end", sink))

    async def resume_phase(self, firsts: dict[Reader, str]) -> None:
        """Each topic resumed after its first event: exactly its second event and sentinel come back."""
        sinks: dict[Reader, list[str]] = {reader: [] for reader in firsts}
        async with AsyncExitStack() as stack:
            tasks = {}
            for reader, position in firsts.items():
                subscription = self.tenants[reader[0]].subscribe(self.topic(reader), after=position)
                stack.push_async_callback(subscription.aclose)
                tasks[reader] = self._reader(subscription, reader, sinks[reader])
            ended = await _finish(tasks)
        for reader, received in sinks.items():
            expected = [f"{reader[0]}|{reader[1]}|1"]
            self.tally.check(reader, received, reader in ended, expected, self.topic(reader))


async def _finish(tasks: dict[Reader, "asyncio.Task[None]"]) -> set[Reader]:
    """The readers that saw their sentinel within DELIVERY_WAIT; the others are cancelled (and fail the check)."""
    if tasks:
        await asyncio.wait(tasks.values(), timeout=DELIVERY_WAIT)
    for task in tasks.values():
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)
    return {reader for reader, task in tasks.items() if not task.cancelled() and task.exception() is None}


async def run(tenants: list[PubSub], universe: Universe, tally: Tally) -> None:
    isolation = Round(tenants, universe, tally)
    firsts = await isolation.live_phase()
    await isolation.resume_phase(firsts)
    tally.examples += 1


@asynccontextmanager
async def memory_tenants(universe: Universe) -> AsyncIterator[list[PubSub]]:
    """In memory a tenant is a `PubSub` of its own (there is no key prefix to share)."""
    tenants = [PubSub() for _ in universe.tenants]
    try:
        yield tenants
    finally:
        for pubsub in tenants:
            await pubsub.close()


@asynccontextmanager
async def redis_tenants(url: str, universe: Universe) -> AsyncIterator[list[PubSub]]:
    """On Redis a tenant is a `key_prefix`: this example's own prefix followed by the tenant's suffix."""
    base = unique_prefix()
    tenants = [PubSub(RedisBackend(url, key_prefix=base + suffix)) for suffix in universe.tenants]
    try:
        yield tenants
    finally:
        for pubsub in tenants:
            await pubsub.close()
        delete_keys(url, base)
