"""GraphQL over Server-Sent Events (graphql-sse PROTOCOL.md): the event encoder, the distinct connections
mode's framing for `HTTPStreamProtocol`, and the single connection mode's stream machine.
"""

import functools
import re
from typing import Final

from livegql.core.errors import LiveGQLError, ProtocolMisuseError
from livegql.core.json import JSONDecodeError, dumps, loads
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close, ServerMachineBase, State
from livegql.protocol.messages import SubscribePayload
from livegql.protocol.transport_ws import CompleteReceived, SubscribeReceived

__all__ = [
    "EVENT_STREAM",
    "OperationConflict",
    "SSEFraming",
    "SSESingleEvent",
    "SSESingleProtocol",
    "accepts_event_stream",
    "event_position",
    "format_event",
    "retry_field",
]

EVENT_STREAM: Final = "text/event-stream"
COMMENT: Final = ":\n\n"
"""An empty comment: the client ignores it, proxies see bytes flow (an opening flush and the heartbeat)."""

_COMPLETE: Final = "event: complete\ndata:\n\n"
# SSE spec, "Interpreting an event stream": a line ends at CRLF, LF or CR (and only those: not U+2028).
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
# SSE spec: an `id` field containing NUL is ignored, and CR or LF would end the line early.
_UNSAFE_ID: Final = re.compile(r"[\r\n\x00]")
_POSITION_KEY: Final = '"position":'
# RFC 7231 section 5.3.1: a qvalue is 0 to 1 with at most three decimals.
_QVALUE: Final = re.compile(r"(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)")


def format_event(event: str, data: str | None, *, id: str | None = None) -> str:
    """One SSE event. `data` None writes a bare `data:` line: the event still dispatches, with empty data.

    Data spanning lines is split over several `data:` lines, which the client joins back with LF. An `id` a
    client could not read back as written (CR, LF or NUL in it) is left out rather than corrupt the stream.
    """
    head = f"event: {event}\n"
    if id is not None and not _UNSAFE_ID.search(id):
        head = f"{head}id: {id}\n"
    if data is None:
        return f"{head}data:\n\n"
    if "\n" in data or "\r" in data:
        lines = "".join(f"data: {line}\n" for line in _LINE_BREAK.split(data))
        return f"{head}{lines}\n"
    return f"{head}data: {data}\n\n"


def retry_field(milliseconds: int) -> str:
    """Sets the client's reconnection delay (SSE spec, "retry" field); with no data, no event is dispatched.

    Sent before a stream ends for a shutdown: EventSource waits this long before it reconnects, so a server's
    clients, each told a different delay, do not all come back at once.
    """
    if milliseconds < 0:
        raise ProtocolMisuseError(f"retry must not be negative, got {milliseconds}")
    return f"retry: {milliseconds}\n\n"


def event_position(payload_json: str) -> str | None:
    """The broker position the engine put in a result's `extensions.position`, if any.

    A substring test spares parsing the payloads that cannot have one; the parse is memoised because fan-out
    hands the same payload to every subscriber of a topic.
    """
    if _POSITION_KEY not in payload_json:
        return None
    return _parsed_position(payload_json)


@functools.lru_cache(maxsize=16)
def _parsed_position(payload_json: str) -> str | None:
    try:
        result = loads(payload_json)
    except JSONDecodeError:
        return None
    extensions = result.get("extensions") if isinstance(result, dict) else None
    position = extensions.get("position") if isinstance(extensions, dict) else None
    return position if isinstance(position, str) else None


class SSEFraming:
    """Distinct connections mode: one operation's results are the `next` events of its own response."""

    content_type = f"{EVENT_STREAM}; charset=utf-8"

    def opening(self) -> str:
        return COMMENT  # flushes the headers through buffering proxies, as the reference server does

    def next(self, payload_json: str) -> str:
        # The `id:` line lets a reconnecting EventSource send Last-Event-ID, from which the subscription resumes.
        return format_event("next", payload_json, id=event_position(payload_json))

    def error(self, errors_json: str) -> str:
        # PROTOCOL.md, distinct connections mode: errors found before execution go out as `next` events.
        return format_event("next", '{"errors":' + errors_json + "}")

    def complete(self) -> str:
        return _COMPLETE

    def heartbeat(self) -> str:
        return COMMENT

    def abort(self, reason: str) -> str:
        # No `complete`: the stream just ends, so EventSource and graphql-sse clients reconnect (and resume).
        return ""


def accepts_event_stream(accept: str | None) -> bool:
    """True when Accept names `text/event-stream` exactly with q > 0; a wildcard does not count, as `*/*`
    must leave a JSON client on JSON."""
    for media_range in (accept or "").split(","):
        media_type, *parameters = media_range.split(";")
        if media_type.strip().lower() == EVENT_STREAM and _quality(parameters) > 0:
            return True
    return False


def _quality(parameters: list[str]) -> float:
    """The range's q (1 when absent); a malformed q makes the range say nothing, as 0 does."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return float(value) if _QVALUE.fullmatch(value) else 0.0
    return 1.0


class OperationConflict(LiveGQLError):
    """An operation with this operationId is already active on the stream (the transport answers 409)."""

    code = "OPERATION_CONFLICT"

    def __init__(self, operation_id: str) -> None:
        super().__init__(f"Operation {operation_id!r} is already active")
        self.operation_id = operation_id


SSESingleEvent = SubscribeReceived | CompleteReceived

# Single connection mode, the reserved GET stream: constructed INITIALISING (the reservation's on_connect ran);
# accept() when the stream opens -> ACKNOWLEDGED, then start()/stop() follow the client's POSTs and DELETEs;
# reject(), init_timeout_expired(), close() and connection_lost() -> CLOSED.
_TIMEOUT: Final = Close(CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout")


class SSESingleProtocol(ServerMachineBase[SSESingleEvent]):
    """One reserved stream's state: the active operations, by the client's operationId, whose results it carries."""

    def __init__(self) -> None:
        super().__init__(State.INITIALISING)
        self._ids: dict[str, str] = {}  # active operationId -> its JSON encoding, made once per start

    @property
    def active_ids(self) -> frozenset[str]:
        return frozenset(self._ids)

    def accept(self) -> None:
        """The GET stream opened: flush its headers. No-op once closed."""
        if not self._begin_accept("stream"):
            return
        self._outputs.append(COMMENT)

    def reject(self, reason: str = "Forbidden") -> None:
        if self._state is State.INITIALISING:
            self._close(Close(CloseCode.FORBIDDEN, reason))
        elif self._state is not State.CLOSED:
            raise ProtocolMisuseError(f"reject() needs a pending stream; state is {self._state.name}")

    def init_timeout_expired(self) -> None:
        """The reserved stream was not opened in time: 4408."""
        if self._state is State.INITIALISING:
            self._close(_TIMEOUT)

    def start(self, operation_id: str, payload: SubscribePayload) -> None:
        """A POST asked to run an operation whose results go to this stream.

        Raises OperationConflict while `operation_id` is active, ProtocolMisuseError unless the stream is open.
        """
        if self._state is not State.ACKNOWLEDGED:
            raise ProtocolMisuseError(f"start() needs an open stream; state is {self._state.name}")
        if operation_id in self._ids:
            raise OperationConflict(operation_id)
        self._ids[operation_id] = dumps(operation_id)
        self._events.append(SubscribeReceived(operation_id, payload))

    def stop(self, operation_id: str) -> bool:
        """A DELETE stopped the operation: nothing more is sent for it, not even `complete`."""
        if self._ids.pop(operation_id, None) is None:
            return False
        self._events.append(CompleteReceived(operation_id))
        return True

    def send_next(self, id: str, payload_json: str) -> bool:
        """Queue a `next` event; False (nothing queued) if `id` is not active."""
        frame = self.next_frame(id, payload_json)
        if frame is None:
            return False
        self._outputs.append(frame)
        return True

    def next_frame(self, id: str, payload_json: str) -> str | None:
        """The hot path's `send_next`: the event to write now (nothing is queued), or None."""
        id_json = self._ids.get(id)
        if id_json is None:
            return None
        data = '{"id":' + id_json + ',"payload":' + payload_json + "}"
        return format_event("next", data, id=event_position(payload_json))

    def send_error(self, id: str, errors_json: str) -> bool:
        """Queue the operation's GraphQL errors as its last result, then its `complete`."""
        id_json = self._ids.pop(id, None)
        if id_json is None:
            return False
        self._outputs.append(format_event("next", '{"id":' + id_json + ',"payload":{"errors":' + errors_json + "}}"))
        self._outputs.append(_complete_event(id_json))
        return True

    def send_complete(self, id: str) -> bool:
        id_json = self._ids.pop(id, None)
        if id_json is None:
            return False
        self._outputs.append(_complete_event(id_json))
        return True

    def send_keepalive(self) -> None:
        if self._state is State.ACKNOWLEDGED:
            self._outputs.append(COMMENT)

    def close(self, code: CloseCode, reason: str) -> None:
        """End the stream from our side: no `complete` events, so the client reconnects. Idempotent."""
        if self._state is not State.CLOSED:
            self._close(Close(code, reason))

    def connection_lost(self) -> None:
        """The client went away: nothing is queued (the transport stops what ran, `active_ids` before this)."""
        self._state = State.CLOSED
        self._ids.clear()

    def _close(self, close: Close) -> None:
        self.connection_lost()
        self._outputs.append(close)


def _complete_event(id_json: str) -> str:
    return format_event("complete", '{"id":' + id_json + "}")
