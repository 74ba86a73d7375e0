"""One operation of the client: what it asked for, and its results as the reader delivers them."""

import asyncio
from collections import deque
from typing import Any

from livegql.core.errors import ClientError
from livegql.protocol import SubscribePayload


class Operation:
    """A bounded buffer of results plus the outcome; `next()` is awaited by exactly one consumer.

    The end (a Complete, an Error, a lost connection) always fits, however full the buffer is.
    """

    def __init__(self, id: str, payload: SubscribePayload, *, resumable: bool, limit: int) -> None:
        self.id = id
        self.payload = payload
        self.resumable = resumable  # subscribed again after a reconnect (subscriptions, not execute())
        self.sent = False  # a Subscribe for it went out on the current socket
        self._limit = limit
        self._results: deque[dict[str, Any]] = deque()
        self._finished = False
        self._error: ClientError | None = None
        self._wakeup = asyncio.Event()

    @property
    def finished(self) -> bool:
        return self._finished

    def push(self, result: dict[str, Any]) -> bool:
        """Buffer one result; False (nothing buffered) when `limit` results are already unread."""
        if self._finished or len(self._results) >= self._limit:
            return False
        self._results.append(result)
        self._wakeup.set()
        return True

    def finish(self, error: ClientError | None = None) -> None:
        """End the operation; buffered results are still read first, then `error` is raised (if any)."""
        if not self._finished:
            self._finished = True
            self._error = error
            self._wakeup.set()

    async def next(self) -> dict[str, Any] | None:
        """The next result, or None once the operation completed; raises the error it ended with."""
        while not self._results:
            if self._finished:
                if self._error is not None:
                    raise self._error
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._results.popleft()
