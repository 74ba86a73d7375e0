"""In-process broker: each subscriber owns a bounded queue; publish never waits on a slow subscriber."""

import asyncio
import weakref
from collections import deque
from types import TracebackType
from typing import Any, Self

from livegql.core.errors import SlowConsumerError

DEFAULT_MAX_QUEUE = 10_000


class MemorySubscription:
    """A registered subscriber of one topic; iterate it, then close it (or let it be collected)."""

    __slots__ = ("__weakref__", "_backend", "_closed", "_overflowed", "_queue", "_waiter", "topic")

    def __init__(self, backend: "MemoryBackend", topic: str) -> None:
        self._backend = backend
        self.topic = topic
        self._queue: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._overflowed = False

    def deliver(self, payload: Any) -> None:
        if self._closed or self._overflowed:
            return
        if len(self._queue) >= self._backend.max_queue:
            # Dropping silently would lose data; end this stream loudly instead and free its memory.
            self._overflowed = True
            self._queue.clear()
        else:
            self._queue.append(payload)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        while not self._queue:
            if self._overflowed:
                self._release()
                raise SlowConsumerError(
                    f"Subscriber of {self.topic!r} fell more than {self._backend.max_queue} events behind"
                )
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    def _release(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.clear()
            self._backend.unregister(self)
            self._wake()

    async def aclose(self) -> None:
        self._release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release()

    def __del__(self) -> None:
        # A resolver's `async for` does not close the iterator it abandons; collection is the backstop.
        if not self._closed:
            self._closed = True
            self._backend.unregister(self)


class MemoryBackend:
    """Topics live in one dict of subscriber sets; a topic entry disappears with its last subscriber."""

    def __init__(self, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if max_queue <= 0:
            raise ValueError("max_queue must be positive")
        self.max_queue = max_queue
        # Weak values: a subscription nobody can read from any more must be collectable (then __del__ unregisters).
        self._topics: dict[str, weakref.WeakValueDictionary[int, MemorySubscription]] = {}

    async def publish(self, topic: str, payload: Any) -> None:
        subscribers = self._topics.get(topic)
        if subscribers:
            for subscription in tuple(subscribers.values()):
                subscription.deliver(payload)

    def subscribe(self, topic: str) -> MemorySubscription:
        subscription = MemorySubscription(self, topic)
        subscribers = self._topics.get(topic)
        if subscribers is None:
            subscribers = self._topics[topic] = weakref.WeakValueDictionary()
        subscribers[id(subscription)] = subscription
        return subscription

    def unregister(self, subscription: MemorySubscription) -> None:
        subscribers = self._topics.get(subscription.topic)
        if subscribers is None:
            return
        subscribers.pop(id(subscription), None)
        if not subscribers:
            del self._topics[subscription.topic]

    def subscriber_count(self, topic: str | None = None) -> int:
        if topic is not None:
            return len(self._topics.get(topic, ()))
        return sum(len(subscribers) for subscribers in self._topics.values())

    def topic_count(self) -> int:
        return len(self._topics)

    async def close(self) -> None:
        for subscribers in tuple(self._topics.values()):
            for subscription in tuple(subscribers.values()):
                await subscription.aclose()
