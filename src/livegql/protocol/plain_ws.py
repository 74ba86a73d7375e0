"""Plain WebSocket mode as a sans-I/O machine: for minimal clients that negotiate no subprotocol, send a bare
GraphQL request `{"query", "variables", "operationName"}` as one message and read each result as one message.

There is no handshake: the connection is initialising from the start (the app's `on_connect` runs with empty
params and sees the request's headers), and requests that arrive before its verdict wait for it. One operation
runs at a time: a new request stops the one running (a query's result, a subscription's stream) and starts.
Driven like transport_ws.ServerProtocol, with the same events, so one connection layer serves every protocol.
"""

from typing import Final

from livegql.core.errors import ProtocolMisuseError
from livegql.core.json import dumps
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close, ServerMachineBase, State
from livegql.protocol.messages import InvalidMessage, SubscribePayload, parse_request
from livegql.protocol.transport_ws import CompleteReceived, ConnectionInitReceived, SubscribeReceived

__all__ = ["PlainEvent", "PlainServerProtocol"]

PlainEvent = ConnectionInitReceived | SubscribeReceived | CompleteReceived

# State changes (there are no client message types, so no table): constructed INITIALISING; accept() ->
# ACKNOWLEDGED; reject(), close(), init_timeout_expired(), connection_lost() -> CLOSED. A request is held in
# INITIALISING (only the latest: a newer one replaces it, as it would stop it once running), run in ACKNOWLEDGED.
_TIMEOUT: Final = Close(CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout")


class PlainServerProtocol(ServerMachineBase[PlainEvent]):
    """One plain socket's state: at most one running operation, under an internal id the client never sees."""

    def __init__(self) -> None:
        super().__init__(State.INITIALISING)
        self._events.append(ConnectionInitReceived(None))  # the transport asks on_connect at once
        self._count = 0
        self._current: str | None = None  # the running operation's id
        self._held: SubscribePayload | None = None  # the request that arrived before the verdict

    def receive_text(self, data: str | bytes) -> None:
        """One request; a malformed one is answered with `{"errors": [...]}` and the socket stays open."""
        if self._state is State.CLOSED:
            return
        try:
            payload = parse_request(data)
        except InvalidMessage as error:
            self._outputs.append(_errors_frame(dumps([{"message": error.reason}])))
            return
        if self._state is State.INITIALISING:
            self._held = payload
        else:
            self._run(payload)

    def _run(self, payload: SubscribePayload) -> None:
        if self._current is not None:
            self._events.append(CompleteReceived(self._current))
        self._count += 1
        self._current = str(self._count)
        self._events.append(SubscribeReceived(self._current, payload))

    def accept(self) -> None:
        """`on_connect` agreed: run the request that waited, if any. No-op once closed."""
        if not self._begin_accept("connection"):
            return
        held, self._held = self._held, None
        if held is not None:
            self._run(held)

    def reject(self, reason: str = "Forbidden") -> None:
        """`on_connect` refused: close 4403 with the reason; the waiting request never runs."""
        if self._state is State.INITIALISING:
            self._close(Close(CloseCode.FORBIDDEN, reason))
        elif self._state is not State.CLOSED:
            raise ProtocolMisuseError(f"reject() needs a pending connection; state is {self._state.name}")

    def init_timeout_expired(self) -> None:
        """`on_connect` did not decide in time: close 4408."""
        if self._state is State.INITIALISING:
            self._close(_TIMEOUT)

    def send_keepalive(self) -> None:
        """Nothing: the plain mode has no keep-alive message (WebSocket pings are the server's business)."""

    def send_next(self, id: str, payload_json: str) -> bool:
        """Queue a result (the bare GraphQL response); False if `id` is not the running operation."""
        if id != self._current:
            return False
        self._outputs.append(payload_json)
        return True

    def next_frame(self, id: str, payload_json: str) -> str | None:
        """The hot path's `send_next`: the frame to write now, or None if `id` is not the running operation."""
        return payload_json if id == self._current else None

    def send_error(self, id: str, errors_json: str) -> bool:
        """Queue `{"errors": [...]}` for the running operation and end it."""
        if id != self._current:
            return False
        self._current = None
        self._outputs.append(_errors_frame(errors_json))
        return True

    def send_complete(self, id: str) -> bool:
        """End the running operation; nothing is sent (the plain mode has no completion message)."""
        if id != self._current:
            return False
        self._current = None
        return True

    def close(self, code: CloseCode, reason: str) -> None:
        """Close from our side (message too large, slow consumer, shutdown). Idempotent."""
        if self._state is not State.CLOSED:
            self._close(Close(code, reason))

    def connection_lost(self) -> None:
        self._state = State.CLOSED
        self._current = self._held = None

    def _close(self, close: Close) -> None:
        self.connection_lost()
        self._outputs.append(close)


def _errors_frame(errors_json: str) -> str:
    return '{"errors":' + errors_json + "}"
