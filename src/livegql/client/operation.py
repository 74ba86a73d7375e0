"""One operation of the client: what it asked for, where its stream is, and its results as the reader delivers them."""

import asyncio
import dataclasses
from collections import deque
from typing import Any

from livegql.client.resume import position_of, requested_resume, subscribe_extensions
from livegql.core.errors import ClientError
from livegql.protocol import SubscribePayload


class Operation:
    """A bounded buffer of results plus the outcome; `next()` is awaited by exactly one consumer.

    The end (a Complete, an Error, a lost connection) always fits, however full the buffer is. Positions are
    kept twice: the last one received (where a resume starts, since buffered results survive a reconnect) and
    the last one delivered to the consumer (what it may persist and resume after later).
    """

    def __init__(self, id: str, payload: SubscribePayload, *, resumable: bool, limit: int) -> None:
        self.id = id
        self.payload = payload
        self.resumable = resumable  # subscribed again after a reconnect (subscriptions, not execute())
        self.sent = False  # a Subscribe for it went out on the current socket
        self.resumed_after: str | None = None  # the resumeAfter of that Subscribe
        self._limit = limit
        self._results: deque[tuple[dict[str, Any], str | None]] = deque()
        self._finished = False
        self._error: ClientError | None = None
        self._wakeup = asyncio.Event()
        self._received = requested_resume(payload.extensions)
        self._delivered = self._received
        self._confirmed = False  # acknowledged on the current socket (or sent data without an ack)
        self._start: str | None = None  # the position that acknowledgement named
        self._subscribed = asyncio.Event()  # set while confirmed, and for good once finished

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def position(self) -> str | None:
        return self._delivered

    def subscribe_payload(self) -> SubscribePayload:
        """The payload to send now: a subscription asks for the ack and resumes after the last position received."""
        self.resumed_after = self._received if self.resumable else None
        extensions = subscribe_extensions(
            self.payload.extensions, acknowledge=self.resumable, resume_after=self.resumed_after
        )
        return dataclasses.replace(self.payload, extensions=extensions)

    def acknowledge(self, position: str | None) -> None:
        """The server's ack on the current socket: every event after `position` will follow."""
        if position is not None:
            self._received = position
            if not self._results:
                self._delivered = position
        self._confirm(position)

    def push(self, result: dict[str, Any]) -> bool:
        """Buffer one result; False (nothing buffered) when `limit` results are already unread."""
        if self._finished or len(self._results) >= self._limit:
            return False
        position = position_of(result)
        if position is not None:
            self._received = position
        self._results.append((result, position))
        self._confirm(None)  # a server without the extension sends no ack: data is all the confirmation there is
        self._wakeup.set()
        return True

    def connection_lost(self) -> None:
        """The socket dropped: not confirmed until the next socket acknowledges it again."""
        self._confirmed = False
        if not self._finished:
            self._subscribed.clear()

    def finish(self, error: ClientError | None = None) -> None:
        """End the operation; buffered results are still read first, then `error` is raised (if any)."""
        if not self._finished:
            self._finished = True
            self._error = error
            self._wakeup.set()
            self._subscribed.set()

    async def subscribed(self) -> str | None:
        """Wait for the confirmation on the current socket; its position, or raise the error it ended with."""
        while True:
            await self._subscribed.wait()
            # Re-check after the await: the socket may have dropped between the set() and this wakeup.
            if self._confirmed:
                return self._start
            if self._finished:
                if self._error is not None:
                    raise self._error
                return None

    async def next(self) -> dict[str, Any] | None:
        """The next result, or None once the operation completed; raises the error it ended with."""
        while not self._results:
            if self._finished:
                if self._error is not None:
                    raise self._error
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        result, position = self._results.popleft()
        if position is not None:
            self._delivered = position
        if not self._results:
            self._delivered = self._received  # caught up: an ack that came after the buffered results counts
        return result

    def _confirm(self, start: str | None) -> None:
        if not self._confirmed:
            self._confirmed = True
            self._start = start
            self._subscribed.set()
