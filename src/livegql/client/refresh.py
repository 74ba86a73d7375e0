"""Refreshing credentials on an open connection: a Ping carrying `refresh`, confirmed by the server's Ping.

livegql answers an admitted refresh with a Ping `{"refreshed": true, "expiresAt": seconds or null}` and a
refused one by closing 4403; refreshes are confirmed in the order they were sent.
"""

import asyncio
from collections import deque
from typing import Any

from livegql.client.session import Session
from livegql.core.errors import ClientError
from livegql.protocol import REFRESH_KEY

REFRESHED = "refreshed"
EXPIRES_AT = "expiresAt"


class Refreshes:
    """The refreshes sent on one client's sockets that wait for the server's confirmation."""

    __slots__ = ("_waiting",)

    def __init__(self) -> None:
        self._waiting: deque[asyncio.Future[float | None]] = deque()

    def send(self, session: Session, params: dict[str, Any]) -> "asyncio.Future[float | None]":
        """Send `params` as a refresh on `session`: the future resolves with the confirmed expiry."""
        waiter: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        session.machine.send_ping({REFRESH_KEY: params})
        session.flush()
        return waiter

    def confirm(self, payload: dict[str, Any] | None) -> None:
        """A server Ping: if it confirms a refresh, the oldest waiting one learns its new expiry."""
        if payload is None or payload.get(REFRESHED) is not True:
            return
        expires_at = payload.get(EXPIRES_AT)
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():  # its caller may have timed out
                waiter.set_result(float(expires_at) if isinstance(expires_at, int | float) else None)
                return

    def fail(self, error: ClientError) -> None:
        """The socket closed: no refresh sent on it will be confirmed."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(error)
