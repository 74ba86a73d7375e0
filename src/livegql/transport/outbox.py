"""A connection's bounded send queue and the one writer that drains it to the socket."""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from livegql.protocol import Close, Output


class Outbox:
    """Frames waiting for the writer. Control frames always fit; events check `full` first (their policy).

    The writer waits on a bare future rather than an `asyncio.Event`: one less object per idle connection.
    """

    __slots__ = ("_frames", "_waiter", "limit")

    def __init__(self, limit: int) -> None:
        self._frames: deque[Output] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.limit = limit

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def full(self) -> bool:
        return len(self._frames) >= self.limit

    def extend(self, frames: list[Output]) -> None:
        if frames:
            self._frames.extend(frames)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def discard_pending(self) -> None:
        """Forget every queued frame (the peer will never read them)."""
        self._frames.clear()

    async def drain(
        self,
        send_text: Callable[[str], Awaitable[None]],
        close: Callable[[Close], Awaitable[None]],
        on_room: Callable[[], None],
    ) -> None:
        """Write frames as they come until a Close is written; `on_room` runs when a full queue has room again."""
        frames = self._frames
        while True:
            while not frames:
                self._waiter = asyncio.get_running_loop().create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
            was_full = len(frames) >= self.limit
            frame = frames.popleft()
            if isinstance(frame, Close):
                await close(frame)
                return
            await send_text(frame)
            if was_full and len(frames) < self.limit:
                on_room()
