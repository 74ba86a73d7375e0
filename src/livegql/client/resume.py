"""livegql's resume extensions of graphql-transport-ws: what a Subscribe asks, what an ack and an event carry.

A subscriber sends `extensions: {"acknowledge": true, "resumeAfter": <position>}`; the server answers with one
`next` whose payload is `{"extensions": {"subscribed": true, "position": ...}}` (no `data`), then events whose
`extensions.position` is their opaque stream position, or an `error` coded HISTORY_GONE if it cannot resume.
"""

from typing import Any, Final

from livegql.client.errors import HistoryGoneError
from livegql.client.results import graphql_error
from livegql.core.errors import ClientError

ACKNOWLEDGE: Final = "acknowledge"
RESUME_AFTER: Final = "resumeAfter"
HISTORY_GONE: Final = "HISTORY_GONE"


def subscribe_extensions(
    user: dict[str, Any] | None, *, acknowledge: bool, resume_after: str | None
) -> dict[str, Any] | None:
    """The caller's extensions with ours merged over them: the client owns acknowledgement and resumption."""
    if not acknowledge and resume_after is None:
        return user
    extensions = dict(user or {})
    if acknowledge:
        extensions[ACKNOWLEDGE] = True
    if resume_after is not None:
        extensions[RESUME_AFTER] = resume_after
    return extensions


def requested_resume(user: dict[str, Any] | None) -> str | None:
    """A `resumeAfter` the caller put in its own extensions (a position it kept from earlier), if a string."""
    position = (user or {}).get(RESUME_AFTER)
    return position if isinstance(position, str) else None


def is_acknowledgement(payload: dict[str, Any]) -> bool:
    """The server's one confirmation of a subscription: `extensions.subscribed`, and neither data nor errors."""
    extensions = payload.get("extensions")
    if "data" in payload or "errors" in payload or not isinstance(extensions, dict):
        return False
    return extensions.get("subscribed") is True


def position_of(payload: dict[str, Any]) -> str | None:
    """`extensions.position` of an ack or an event; None when absent (no single broker topic) or not a string."""
    extensions = payload.get("extensions")
    position = extensions.get("position") if isinstance(extensions, dict) else None
    return position if isinstance(position, str) else None


def error_of(errors: list[dict[str, Any]], resumed_after: str | None) -> ClientError:
    """An `error` message as an exception: HistoryGoneError when the server cannot resume after the position."""
    error = graphql_error(errors)
    if any(_code(item) == HISTORY_GONE for item in errors):
        return HistoryGoneError(str(error), errors, resumed_after)
    return error


def _code(error: Any) -> object:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None
