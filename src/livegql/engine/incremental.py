"""The payloads of an incremental execution (@defer, @stream), encoded once each with the app's error masking.

Payloads follow graphql-core 3.3's format (the incremental delivery RFC as of 2024): the initial one carries
`data`, `pending` and `hasNext`; each subsequent one `incremental` (`data` or `items`, with the `id` of a pending
entry), `completed`, newly `pending` entries, and `hasNext`, false on the last.
"""

from collections.abc import AsyncIterator
from typing import Any

from livegql.core import json
from livegql.engine.graphql_compat import IncrementalExecution
from livegql.engine.results import ResultEncoder


class IncrementalResults(AsyncIterator[str]):
    """The encoded payloads in order: the initial one, then each subsequent one until `hasNext` is false.

    `aclose()` cancels the deferred and streamed work still outstanding (and closes streamed sources); call it
    when done or when abandoning the iteration, from the task that iterates (once no `__anext__` is pending, as
    for any async generator). It is safe to call more than once.
    """

    def __init__(self, execution: IncrementalExecution, encoder: ResultEncoder) -> None:
        self._initial: str | None = encode_initial(execution.initial, encoder)
        self._subsequent = execution.subsequent
        self._cancel = execution.cancel
        self._encoder = encoder

    async def __anext__(self) -> str:
        initial = self._initial
        if initial is not None:
            self._initial = None
            return initial
        result = await anext(self._subsequent)  # StopAsyncIteration after the payload with hasNext false
        return encode_subsequent(result, self._encoder)

    async def aclose(self) -> None:
        self._initial = None
        # Closing the generator stops its delivery; graphql-core cancels the outstanding work only if it had
        # started iterating it, so cancel explicitly as well (a stream's source opens with the initial result).
        await self._subsequent.aclose()
        await self._cancel()


def encode_initial(initial: Any, encoder: ResultEncoder) -> str:
    """`{"data", "errors"?, "pending", "hasNext": true, "extensions"?}` with the errors masked."""
    payload: dict[str, Any] = initial.formatted
    if initial.errors:
        payload["errors"] = encoder.format_errors(initial.errors)
    return json.dumps(payload)


def encode_subsequent(result: Any, encoder: ResultEncoder) -> str:
    """`{"hasNext", "pending"?, "incremental"?, "completed"?, "extensions"?}` with every error masked: those of
    delivered data (`incremental[i].errors`) and those that ended a fragment or stream (`completed[i].errors`)."""
    payload: dict[str, Any] = result.formatted
    for key, entries in (("incremental", result.incremental), ("completed", result.completed)):
        for formatted, entry in zip(payload.get(key, ()), entries or (), strict=True):
            if entry.errors:
                formatted["errors"] = encoder.format_errors(entry.errors)
    return json.dumps(payload)
