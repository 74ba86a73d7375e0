"""One GraphQL operation streamed over one HTTP response, as a sans-I/O machine.

The wire format (graphql-sse events, Apollo multipart parts) is a `StreamFraming` passed in; this module owns
the lifecycle: authorise, stream, end. Driven like the WebSocket machines, so one runner serves every transport.
"""

from typing import Final, Protocol

from livegql.core.errors import ProtocolMisuseError
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close, ServerMachineBase, State
from livegql.protocol.messages import SubscribePayload
from livegql.protocol.transport_ws import CompleteReceived, SubscribeReceived

__all__ = ["OPERATION_ID", "HTTPStreamProtocol", "StreamEvent", "StreamFraming"]

OPERATION_ID: Final = "1"
"""The internal id of the response's single operation; the client never sees it."""

StreamEvent = SubscribeReceived | CompleteReceived

# State changes (no client messages arrive on a response, so no table): constructed INITIALISING while the
# transport authorises the request; accept() -> ACKNOWLEDGED, the operation runs; its end (send_error,
# send_complete), reject(), close(), init_timeout_expired() and connection_lost() -> CLOSED. ACKNOWLEDGED
# therefore means "the operation is running": the response carries nothing after it.
_TIMEOUT: Final = Close(CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout")
_ENDED: Final = Close(CloseCode.NORMAL_CLOSURE, "")


class StreamFraming(Protocol):
    """How one streaming HTTP protocol writes a response body; every method returns text to append to it."""

    content_type: str
    """The response's Content-Type header."""

    def opening(self) -> str:
        """Written first, once the request is accepted ("" for nothing)."""
        ...

    def next(self, payload_json: str) -> str:
        """One already-encoded execution result ("" when it writes nothing for it)."""
        ...

    def error(self, errors_json: str) -> str:
        """An already-encoded array of GraphQL errors that ended the operation (a `complete()` follows)."""
        ...

    def complete(self) -> str:
        """The operation ended normally; nothing follows."""
        ...

    def heartbeat(self) -> str:
        """Keeps idle proxies from cutting the response; the client ignores it ("" for none)."""
        ...

    def abort(self, reason: str) -> str:
        """Our side ends the stream before the operation did (shutdown, slow consumer); nothing follows."""
        ...


class HTTPStreamProtocol(ServerMachineBase[StreamEvent]):
    """One streaming response's state: a single operation, under OPERATION_ID, framed by `framing`."""

    def __init__(self, framing: StreamFraming, payload: SubscribePayload) -> None:
        super().__init__(State.INITIALISING)
        self._framing = framing
        self._payload = payload

    def accept(self) -> None:
        """The request is authorised: open the body and start the operation. No-op once closed."""
        if not self._begin_accept("request"):
            return
        opening = self._framing.opening()
        if opening:
            self._outputs.append(opening)
        self._events.append(SubscribeReceived(OPERATION_ID, self._payload))

    def reject(self, reason: str = "Forbidden") -> None:
        """The request is refused: 4403 (the transport answers 403 before any body). No-op once closed."""
        if self._state is State.INITIALISING:
            self._close(Close(CloseCode.FORBIDDEN, reason))
        elif self._state is not State.CLOSED:
            raise ProtocolMisuseError(f"reject() needs a pending request; state is {self._state.name}")

    def init_timeout_expired(self) -> None:
        """Authorisation did not finish in time: 4408."""
        if self._state is State.INITIALISING:
            self._close(_TIMEOUT)

    def send_next(self, id: str, payload_json: str) -> bool:
        """Queue a result; False (nothing queued) if `id` is not the running operation. A result the framing
        writes as nothing (an incremental payload its format has no place for) queues nothing, yet is True."""
        if not self._running(id):
            return False
        frame = self._framing.next(payload_json)
        if frame:
            self._outputs.append(frame)
        return True

    def next_frame(self, id: str, payload_json: str) -> str | None:
        """The hot path's `send_next`: the frame to write now (nothing is queued), or None: `id` is not the
        running operation, or the framing writes nothing for this result."""
        if not self._running(id):
            return None
        return self._framing.next(payload_json) or None

    def send_error(self, id: str, errors_json: str) -> bool:
        """Queue the operation's GraphQL errors and end the response."""
        if not self._running(id):
            return False
        self._outputs.append(self._framing.error(errors_json))
        self._end()
        return True

    def send_complete(self, id: str) -> bool:
        """The operation ended normally: end the response."""
        if not self._running(id):
            return False
        self._end()
        return True

    def send_keepalive(self) -> None:
        """Queue a heartbeat while the operation runs (not before the body opened, not after it ended)."""
        heartbeat = self._framing.heartbeat() if self._state is State.ACKNOWLEDGED else ""
        if heartbeat:  # a framing without heartbeats (incremental multipart) returns ""
            self._outputs.append(heartbeat)

    def close(self, code: CloseCode, reason: str) -> None:
        """End the stream from our side (1013 slow consumer, 1001 shutdown). Idempotent.

        Once the body is open the framing says how a cut-short stream looks; before, only the Close (a status).
        """
        if self._state is State.ACKNOWLEDGED:
            aborted = self._framing.abort(reason)
            if aborted:
                self._outputs.append(aborted)
        if self._state is not State.CLOSED:
            self._close(Close(code, reason))

    def connection_lost(self) -> None:
        """The client went away: nothing more can be written, so nothing is queued."""
        self._state = State.CLOSED

    def _running(self, id: str) -> bool:
        return id == OPERATION_ID and self._state is State.ACKNOWLEDGED

    def _end(self) -> None:
        self._outputs.append(self._framing.complete())
        self._close(_ENDED)

    def _close(self, close: Close) -> None:
        self._state = State.CLOSED
        self._outputs.append(close)
