"""A subscriber of the Redis broker: a bounded queue fed by its topic, after an optional replay (resume).

While a resuming subscriber replays the stream page by page, live events for it wait in a buffer; once the
replay reaches the point where live delivery began, the buffered events after its cursor follow. So it gets
every event after the resume position in order, once, with no gap.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from livegql.broker.base import OnLive
from livegql.broker.redis_script import ZERO, Event, Key, format_key, parse_position
from livegql.broker.redis_store import CONNECTION_LOST, Page, StreamStore
from livegql.broker.redis_topics import TopicTable, stream_key
from livegql.core.errors import HistoryGoneError, InvalidPositionError, LiveGQLError, SlowConsumerError

REPLAY_PAGE = 500
"""Entries read per XRANGE while replaying: bounds a replay's memory and each Redis call's cost."""

_RETRY_FIRST, _RETRY_MAX = 0.05, 2.0  # replay reads while Redis is unreachable: wait, do not fail the stream


@dataclass(frozen=True, slots=True)
class Plumbing:
    """What a subscription needs from its backend (passed in, so it holds no reference to the backend)."""

    table: TopicTable
    store: StreamStore
    start_listening: Callable[[], None]
    max_queue: int


class RedisSubscription:
    """A registered subscriber of one topic; iterate it, then close it (or let it be collected)."""

    __slots__ = (
        "__weakref__",
        "_accepting",
        "_after",
        "_buffer",
        "_closed",
        "_cursor",
        "_error",
        "_live_from",
        "_max_queue",
        "_on_live",
        "_overflowed",
        "_plumbing",
        "_position",
        "_queue",
        "_started",
        "_waiter",
        "topic",
    )

    def __init__(self, plumbing: Plumbing, topic: str, after: str | None, on_live: OnLive | None) -> None:
        self._plumbing = plumbing
        self.topic = topic
        self._after = after
        self._on_live = on_live
        self._max_queue = plumbing.max_queue
        self._queue: deque[Event] = deque()
        self._buffer: list[Event] | None = [] if after is not None else None  # live events held during replay
        self._cursor: Key | None = None  # last replayed ID while replaying, else None
        self._live_from: Key | None = None  # every event after it is delivered to this subscriber
        self._accepting = False  # live, and neither closed nor failed
        self._waiter: asyncio.Future[None] | None = None
        self._position: str | None = None
        self._started = self._closed = self._overflowed = False
        self._error: LiveGQLError | None = None
        plumbing.table.join(topic, self)

    @property
    def position(self) -> str | None:
        return self._position

    # Called by the topic (the pub/sub reader), never awaiting.

    def go_live(self, start: Key) -> None:
        if self._live_from is None and not self._closed:
            self._live_from = start
            self._accepting = True
            self._wake()

    def deliver(self, event: Event) -> None:
        if not self._accepting:
            return
        sink = self._buffer
        if sink is None:
            if len(self._queue) < self._max_queue:
                self._queue.append(event)
                waiter = self._waiter
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
                return
        elif len(sink) < self._max_queue:
            sink.append(event)
            return
        # Dropping silently would lose data; end this stream loudly instead and free its memory.
        self._overflowed = True
        self._stop()

    def fail(self, error: LiveGQLError) -> None:
        if self._error is None and not self._closed:
            self._error = error
            self._stop()

    def _stop(self) -> None:
        self._accepting = False
        self._queue.clear()
        self._buffer = self._cursor = None
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # The consumer's side.

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        if not self._started:
            await self._start()
        while True:
            if self._queue:
                event = self._queue.popleft()
                self._position = event[1]
                return event[2]
            if self._cursor is not None:
                await self._replay_page()
                continue
            self._raise_if_ended()
            await self._wait()

    async def _start(self) -> None:
        self._started = True
        after = None
        if self._after is not None:
            after = parse_position(self._after)
            if after is None:
                self._release()
                raise InvalidPositionError(
                    f"cannot resume topic {self.topic!r} after {self._after!r}: "
                    "not a position of this broker (expected '<ms>-<seq>')"
                )
        self._plumbing.start_listening()
        while self._live_from is None:
            self._raise_if_ended()
            await self._wait()
        if after is not None:
            self._cursor = after
            await self._replay_page()  # the first page checks the history is all there
            self._raise_if_ended()
        start = format_key(after if after is not None else self._live_from)
        self._position = start
        if self._on_live is not None:
            self._on_live(start)

    async def _replay_page(self) -> None:
        cursor, end = self._cursor, self._live_from
        assert cursor is not None
        assert end is not None
        page = await self._read_page(cursor, end)
        if self._cursor is None:
            return  # closed, overflowed or failed meanwhile
        self._check_retained(page, cursor)
        for event in page.events:
            self._queue.append(event)
        if page.events:
            cursor = page.events[-1][0]
        self._cursor = cursor
        if len(page.events) < REPLAY_PAGE or cursor >= end:
            # Replayed up to where live delivery began: the buffered live events after the cursor follow.
            buffered, self._buffer, self._cursor = self._buffer or [], None, None
            self._queue.extend(event for event in buffered if event[0] > cursor)

    async def _read_page(self, cursor: Key, end: Key) -> Page:
        delay = _RETRY_FIRST
        while True:
            try:
                return await self._plumbing.store.page(
                    stream_key(self._plumbing.table.prefix, self.topic), cursor, format_key(end), REPLAY_PAGE
                )
            except CONNECTION_LOST:
                # The subscription outlives a Redis outage: try again until Redis is back or it ends.
                await self._pause(delay)
                if self._cursor is None:
                    self._raise_if_ended()
                delay = min(delay * 2, _RETRY_MAX)

    def _check_retained(self, page: Page, cursor: Key) -> None:
        where = f"topic {self.topic!r} after position {format_key(cursor)!r}"
        if not page.exists:
            if cursor == ZERO:
                return
            problem = "no events are retained (the topic's stream does not exist)"
        elif cursor > page.last:
            problem = f"the position is ahead of the latest event ({format_key(page.last)})"
        elif page.deleted > cursor:
            problem = "some events are no longer retained"
        else:
            return
        self._release()
        raise HistoryGoneError(f"cannot resume {where}: {problem}")

    def _raise_if_ended(self) -> None:
        if self._overflowed:
            self._release()
            raise SlowConsumerError(f"Subscriber of {self.topic!r} fell more than {self._max_queue} events behind")
        error, self._error = self._error, None
        if error is not None:  # raised once; the stream has ended (StopAsyncIteration from now on)
            self._release()
            raise error
        if self._closed:
            raise StopAsyncIteration

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def _pause(self, delay: float) -> None:
        """Wait `delay` seconds, or less if the subscription is closed or fails meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wait()

    def _release(self) -> None:
        if not self._closed:
            self._closed = True
            self._stop()
            self._plumbing.table.leave(self.topic, self)

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
            self._plumbing.table.leave(self.topic, self)
