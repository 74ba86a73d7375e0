"""`Subscription`: what `Client.subscribe` returns, an async iterator of each event's data, and its position."""

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from livegql.client.operation import Operation
from livegql.client.results import data_of
from livegql.core.errors import ClientError


class Subscription:
    """The events of one `Client.subscribe` call: `async for data in subscription`.

    Leaving the loop early completes the operation on the server: explicitly with `aclose()` or
    `async with`, and otherwise as soon as the object is dropped (CPython frees it at the `break`).
    After a reconnect it resumes after the last position received, so no event is lost or repeated; if the
    server no longer retains that history, iterating raises HistoryGoneError (refetch, then subscribe again).
    """

    def __init__(self, operation: Operation, stop: Callable[[Operation], None]) -> None:
        self._operation = operation
        self._stop = stop

    @property
    def position(self) -> str | None:
        """The stream position of the last event yielded (or, before any, where the stream started); None
        while the server has named none. Pass it as `extensions={"resumeAfter": position}` to resume later.
        """
        return self._operation.position

    # `timeout=` (ASYNC109) for the common case of a bounded wait; asyncio.timeout() around the call works too.
    async def subscribed(self, timeout: float | None = None) -> str | None:  # noqa: ASYNC109
        """Wait until the server acknowledged the subscription on the current socket; the start position.

        From then on every event published is delivered. None when the server named no position, or sent
        data without acknowledging (a server without the extension: its first event is the confirmation).
        Raises the subscription's error if it ended first, TimeoutError after `timeout` seconds.
        """
        async with asyncio.timeout(timeout):
            return await self._operation.subscribed()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> dict[str, Any]:
        result = await self._operation.next()
        if result is None:
            raise StopAsyncIteration
        try:
            return data_of(result)
        except ClientError:
            self.close()
            raise

    def close(self) -> None:
        """Stop listening: send Complete if the operation is still running. Idempotent; never awaits."""
        self._stop(self._operation)

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # Dropped without aclose(), e.g. `break` in `async for`: complete it now rather than leak it.
        # RuntimeError: the event loop may already be closed if the client was never closed.
        with contextlib.suppress(RuntimeError):
            self.close()
