"""`Subscription`: what `Client.subscribe` returns, an async iterator of each event's data."""

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
    """

    def __init__(self, operation: Operation, stop: Callable[[Operation], None]) -> None:
        self._operation = operation
        self._stop = stop

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
