"""What the multi-process tests share: subscribers spread over server processes through the Python client,
a publisher that retries through any process, and the exactly-once, in-order check per subscriber."""

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from livegql.client import Client, ClientError, Subscription

WATCH = "subscription($t: String!) { events(topic: $t) { topic seq } }"
PUBLISH = "mutation($t: String!, $s: Int!) { publish(topic: $t, seq: $s) }"
PID = "{ pid }"
DEADLINE = 60.0  # every bounded wait of these tests; a healthy run needs a fraction of it


@dataclass
class Subscriber:
    topic: str
    subscription: Subscription
    received: list[int] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)


async def open_clients(urls_per_client: Sequence[Sequence[str]]) -> list[Client]:
    """One `Client` per entry; each tries its URLs in order (failover), reconnecting for ever."""
    clients = [Client(list(urls), backoff_initial=0.05, backoff_max=0.5) for urls in urls_per_client]
    await asyncio.gather(*(client.connect() for client in clients))
    return clients


async def subscribe_all(plan: Sequence[tuple[Client, str]]) -> list[Subscriber]:
    """Subscribe each (client, topic) and wait until the server acknowledged every one: from then on, no
    event published can be missed."""
    subscribers = [Subscriber(topic, client.subscribe(WATCH, {"t": topic})) for client, topic in plan]
    async with asyncio.timeout(DEADLINE):
        await asyncio.gather(*(subscriber.subscription.subscribed() for subscriber in subscribers))
    return subscribers


async def consume(subscriber: Subscriber, expected: int) -> None:
    async for data in subscriber.subscription:
        subscriber.received.append(data["events"]["seq"])
        if len(subscriber.received) >= expected:
            subscriber.done.set()


class Publisher:
    """Publishes (topic, seq) through GraphQL mutations over WebSocket, spreading them over `urls`; a failed
    attempt (broker down, process gone) is retried, through the next URL, with the same idempotency key (the
    mutation uses topic/seq), so an attempt that was executed but not confirmed is not added twice."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self.clients: list[Client] = []
        self.published = 0
        self.failures = 0
        self.progress = asyncio.Condition()

    async def __aenter__(self) -> "Publisher":
        # No reconnecting: a client whose process died fails fast, and the retry goes to the next URL.
        self.clients = [Client(url, reconnect=False) for url in self.urls]
        await asyncio.gather(*(client.connect() for client in self.clients))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self.clients), return_exceptions=True)

    async def publish_topic(self, topic: str, count: int) -> None:
        """Events 0..count-1 of `topic`, in order (each only once the previous one was accepted)."""
        for seq in range(count):
            await self._publish_one(topic, seq)

    async def _publish_one(self, topic: str, seq: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE
        attempt = 0
        while True:
            client = self.clients[(seq + attempt) % len(self.clients)]
            if await self._attempt(client, topic, seq):
                async with self.progress:
                    self.published += 1
                    self.progress.notify_all()
                return
            async with self.progress:
                self.failures += 1
                self.progress.notify_all()
            attempt += 1
            if loop.time() > deadline:
                raise AssertionError(f"could not publish {topic}/{seq} within {DEADLINE}s")
            await asyncio.sleep(min(0.01 * attempt, 0.2))  # a retry backoff, not synchronisation

    @staticmethod
    async def _attempt(client: Client, topic: str, seq: int) -> bool:
        try:
            data = await client.execute(PUBLISH, {"t": topic, "s": seq})
        except ClientError as error:
            codes = {_code(item) for item in error.errors}
            if not codes <= {"BROKER_UNAVAILABLE"}:
                raise AssertionError(f"unexpected errors: {error.errors}") from error
            return False  # the broker refused it, or the process is gone
        return isinstance(data.get("publish"), str)

    async def reached(self, count: int) -> None:
        """Wait until `count` events were accepted."""
        async with asyncio.timeout(DEADLINE), self.progress:
            await self.progress.wait_for(lambda: self.published >= count)

    async def failed_more_than(self, count: int) -> None:
        """Wait until more than `count` attempts failed (the publishers noticed an outage)."""
        async with asyncio.timeout(DEADLINE), self.progress:
            await self.progress.wait_for(lambda: self.failures > count)


async def run_and_check(
    subscribers: Sequence[Subscriber], publisher: Publisher, topics: Sequence[str], events_per_topic: int
) -> None:
    """Publish every topic's events concurrently (each topic in order) and check every subscriber saw
    exactly 0..events-1: nothing lost, nothing twice, nothing out of order."""
    consumers = [asyncio.create_task(consume(subscriber, events_per_topic)) for subscriber in subscribers]
    try:
        await asyncio.gather(*(publisher.publish_topic(topic, events_per_topic) for topic in topics))
        async with asyncio.timeout(DEADLINE):
            await asyncio.gather(*(subscriber.done.wait() for subscriber in subscribers))
    finally:
        for consumer in consumers:
            consumer.cancel()
        await asyncio.gather(*consumers, return_exceptions=True)
    expected = list(range(events_per_topic))
    wrong = [(s.topic, _describe(s.received, events_per_topic)) for s in subscribers if s.received != expected]
    assert not wrong, f"{len(wrong)} of {len(subscribers)} subscribers saw a wrong sequence, e.g. {wrong[:3]}"


def _code(error: dict[str, object]) -> object:
    extensions = error.get("extensions")
    return extensions.get("code") if isinstance(extensions, dict) else None


def _describe(received: list[int], expected: int) -> str:
    lost = expected - len(set(received))
    duplicated = len(received) - len(set(received))
    disordered = sum(1 for a, b in itertools.pairwise(received) if b < a)
    return f"lost={lost} duplicated={duplicated} out_of_order={disordered}"
