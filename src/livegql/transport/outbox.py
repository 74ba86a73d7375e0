"""A connection's bounded send queue, written eagerly: a frame goes straight to the socket when nothing is queued.

ASGI servers accept a frame without suspending while the socket's buffer has room, so the send coroutine is run
in place until its first suspension (what Python 3.12 calls eager task execution). Only when the server pushes
back does a task take over to finish that send and drain what queued behind it. An idle or keeping-up
connection therefore has no writer task at all, and a fan-out costs no task switch per subscriber.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from livegql.protocol import Close, Output

logger = logging.getLogger("livegql.websocket")

SendFrame = Callable[[Output], Coroutine[Any, Any, None]]


class Outbox:
    """Frames in order to `write`; `on_finished` runs once the Close is written or the peer is gone.

    Control frames always fit; event producers check `full` first and apply their own policy.
    """

    __slots__ = ("_finished", "_frames", "_on_finished", "_on_room", "_write", "_writer", "limit")

    def __init__(
        self, limit: int, write: SendFrame, *, on_room: Callable[[], None], on_finished: Callable[[], None]
    ) -> None:
        # Made on first use: an empty deque is 760 bytes, and a connection that keeps up never needs one.
        self._frames: deque[Output] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._write = write
        self._on_room = on_room
        self._on_finished = on_finished
        self._finished = False
        self.limit = limit

    def __len__(self) -> int:
        return 0 if self._frames is None else len(self._frames)

    @property
    def busy(self) -> bool:
        """Whether a write is in flight or frames wait: writing around the outbox now would interleave."""
        return self._writer is not None or bool(self._frames)

    @property
    def full(self) -> bool:
        return self._frames is not None and len(self._frames) >= self.limit

    def _queue(self) -> deque[Output]:
        if self._frames is None:
            self._frames = deque()
        return self._frames

    def extend(self, frames: list[Output]) -> None:
        if self._finished:
            return
        if self._writer is not None or self._frames:
            self._queue().extend(frames)
            return
        for index, frame in enumerate(frames):
            if self._finished:
                return  # a Close went out, or the peer is gone: nothing more is written
            if not self._write_eagerly(frame):
                self._queue().extend(frames[index + 1 :])
                return

    def append(self, frame: Output) -> None:
        """One frame: `extend` without the list, for the fan-out's hot path."""
        if self._finished:
            return
        if self._writer is not None or self._frames:
            self._queue().append(frame)
        else:
            self._write_eagerly(frame)

    def discard_pending(self) -> None:
        """Forget every queued frame (the peer will never read them)."""
        self._frames = None

    def cancel(self) -> None:
        self._finished = True
        self._frames = None
        if self._writer is not None:
            self._writer.cancel()

    def _write_eagerly(self, frame: Output) -> bool:
        """Write `frame` now if the server takes it without waiting; else start the writer. True if written."""
        coroutine = self._write(frame)
        try:
            suspended_on = coroutine.send(None)
        except StopIteration:
            if isinstance(frame, Close):
                self._finish()
            return True
        except Exception as error:
            self._gone(error)
            return False
        self._writer = asyncio.get_running_loop().create_task(self._drain(coroutine, suspended_on))
        return False

    async def _drain(self, coroutine: Coroutine[Any, Any, None], suspended_on: Any) -> None:
        try:
            await _resume(coroutine, suspended_on)
            while self._frames:
                was_full = self.full
                frame = self._frames.popleft()
                await self._write(frame)  # the queue may be discarded meanwhile: re-read it after every await
                if isinstance(frame, Close):
                    self._finish()
                    return
                if was_full and not self.full:
                    self._on_room()
            self._frames = None  # drained: an idle connection keeps no queue
        except Exception as error:
            self._gone(error)
            return
        finally:
            self._writer = None

    def _gone(self, error: Exception) -> None:
        # The peer vanished mid-send; nothing is left to tell it.
        logger.debug("WebSocket send failed: %r", error)
        self._finish()

    def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._frames = None
            self._on_finished()


async def _resume(coroutine: Coroutine[Any, Any, None], suspended_on: Any) -> None:
    """Finish a coroutine that was started by hand and suspended on `suspended_on` (a future, or None for a
    bare yield), exactly as the Task that would otherwise own it: wait, then resume with the outcome."""
    while True:
        try:
            if suspended_on is None:
                await asyncio.sleep(0)
            else:
                # The coroutine marked the future as yielded to a task (Task.__step clears the mark before
                # waiting on it); clear it too, or awaiting the still-pending future raises RuntimeError.
                suspended_on._asyncio_future_blocking = False
                await suspended_on
        except BaseException as error:
            try:
                suspended_on = coroutine.throw(error)
            except StopIteration:
                return
            continue
        try:
            suspended_on = coroutine.send(None)
        except StopIteration:
            return
