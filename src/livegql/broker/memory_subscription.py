"""One subscriber of the in-process broker: a bounded queue that `deliver` fills and `async for` drains."""

import asyncio
from collections import deque
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Protocol, Self

from livegql.broker.base import OnLive
from livegql.core.errors import LiveGQLError, SlowConsumerError

Entry = tuple[int, Any, float]
"""(seq, payload, clock time of publish): one tuple per event, shared by the history and every queue."""


class SubscriptionOwner(Protocol):
    """What a subscription needs of its backend, a MemoryBackend (a Protocol: memory imports this module)."""

    max_queue: int
    epoch: int

    def unregister(self, subscription: "MemorySubscription") -> None: ...


class MemorySubscription:
    """A subscriber of one topic; iterate it, then close it (or let it be collected)."""

    __slots__ = (
        "__weakref__",
        "_backend",
        "_closed",
        "_error",
        "_live",
        "_max_queue",
        "_on_live",
        "_overflowed",
        "_queue",
        "_seq",
        "_waiter",
        "topic",
    )

    def __init__(
        self,
        backend: SubscriptionOwner,
        topic: str,
        start: int,
        *,
        on_live: OnLive | None = None,
        replay: Iterable[Entry] = (),
        error: LiveGQLError | None = None,
    ) -> None:
        self._backend = backend
        self.topic = topic
        self._max_queue = backend.max_queue
        self._queue: deque[Entry] = deque(replay)
        self._waiter: asyncio.Future[None] | None = None
        # A subscription born with an error was never registered: it only reports the error, once.
        self._closed = error is not None
        self._error = error
        self._overflowed = False
        self._live = False
        self._seq = start  # the start position until a payload is returned, then that payload's
        self._on_live = on_live

    @property
    def position(self) -> str | None:
        """The position of the last payload returned; before any, the start position once live, else None."""
        return f"{self._backend.epoch}-{self._seq}" if self._live else None

    def deliver(self, entry: Entry) -> None:
        if self._closed or self._overflowed:
            return
        queue = self._queue
        if len(queue) >= self._max_queue:
            # Dropping silently would lose data; end this stream loudly instead and free its memory.
            self._overflowed = True
            queue.clear()
        else:
            queue.append(entry)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        if not self._live:
            self._go_live()
        queue = self._queue
        while not queue:
            if self._overflowed:
                self._release()
                raise SlowConsumerError(f"Subscriber of {self.topic!r} fell more than {self._max_queue} events behind")
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        entry = queue.popleft()
        self._seq = entry[0]
        return entry[1]

    def _go_live(self) -> None:
        """The first `__anext__`: report the resume error, if any, else tell `on_live` the start position."""
        error = self._error
        if error is not None:
            self._error = None
            raise error
        if self._closed:
            raise StopAsyncIteration
        self._live = True
        on_live, self._on_live = self._on_live, None
        if on_live is not None:
            on_live(f"{self._backend.epoch}-{self._seq}")

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
