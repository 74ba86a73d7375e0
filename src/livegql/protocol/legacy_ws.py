"""The server side of the legacy subscriptions-transport-ws protocol (subprotocol "graphql-ws") as a sans-I/O
machine, driven like transport_ws.ServerProtocol: a `start` becomes a SubscribeReceived, a `stop` a
CompleteReceived. "the reference server" below is apollographql/subscriptions-transport-ws's server.ts."""

from collections.abc import Mapping
from typing import Any, Final

from livegql.core.errors import ProtocolMisuseError
from livegql.core.json import dumps
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close, ServerMachineBase, State
from livegql.protocol.legacy_messages import (
    KEEP_ALIVE_FRAME,
    InvalidStart,
    LegacyClientMessage,
    LegacyConnectionInit,
    LegacyMessageType,
    Start,
    Stop,
    connection_ack_frame,
    connection_error_frame,
    data_frame,
    legacy_complete_frame,
    legacy_error_frame,
    parse_legacy_message,
)
from livegql.protocol.messages import InvalidMessage, SubscribePayload
from livegql.protocol.transport_ws import CompleteReceived, ConnectionInitReceived, SubscribeReceived

__all__ = ["LEGACY_TRANSITIONS", "LegacyEvent", "LegacyServerProtocol"]

# States are transport_ws.State, so the connection layer reads both machines alike. Here INITIALISING also
# holds the starts that arrive before the app decides (see _start).
_OPEN: Final = (State.AWAITING_INIT, State.INITIALISING, State.ACKNOWLEDGED)
_TOO_MANY_INITS: Final = Close(CloseCode.TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests")
_TERMINATED: Final = Close(CloseCode.NORMAL_CLOSURE, "")
_TOLD_TO_CLIENT: Final = frozenset({CloseCode.BAD_REQUEST, CloseCode.FORBIDDEN})

# Where each client message leads from each open state: the next state, or the Close it earns.
# A pair absent here is a server-only type: answered with connection_error, the socket stays open.
# Local calls: accept() INITIALISING -> ACKNOWLEDGED; reject(), close(), init_timeout_expired() and
# connection_lost() -> CLOSED.
LEGACY_TRANSITIONS: Final[Mapping[tuple[State, LegacyMessageType], State | Close]] = {
    # The reference server re-runs onConnect on every connection_init; a second init could then swap the
    # identity of a live socket, so we close 4429 as graphql-transport-ws does (after a connection_error).
    (State.AWAITING_INIT, LegacyMessageType.CONNECTION_INIT): State.INITIALISING,
    (State.INITIALISING, LegacyMessageType.CONNECTION_INIT): _TOO_MANY_INITS,
    (State.ACKNOWLEDGED, LegacyMessageType.CONNECTION_INIT): _TOO_MANY_INITS,
    # start: refused before connection_init, held while initialising, run once acknowledged (see _start).
    **{(state, LegacyMessageType.START): state for state in _OPEN},
    # stop for an unknown id is a no-op (the reference server's unsubscribe checks the id first).
    **{(state, LegacyMessageType.STOP): state for state in _OPEN},
    # connection_terminate: the reference server calls socket.close(); we say 1000 explicitly.
    **{(state, LegacyMessageType.CONNECTION_TERMINATE): _TERMINATED for state in _OPEN},
}

LegacyEvent = ConnectionInitReceived | SubscribeReceived | CompleteReceived
"""What `events_received()` yields: the graphql-transport-ws events, so one connection layer serves both."""


class LegacyServerProtocol(ServerMachineBase[LegacyEvent]):
    """One socket's subscriptions-transport-ws server state. Peer errors become outputs; misuse raises."""

    def __init__(self, max_pending_starts: int = 100) -> None:
        super().__init__(State.AWAITING_INIT)
        self._ids: dict[str, str] = {}  # active id -> its JSON encoding, made once per start
        self._pending: dict[str, SubscribePayload] = {}  # starts received while INITIALISING, in order
        self._max_pending = max_pending_starts

    @property
    def active_ids(self) -> frozenset[str]:
        return frozenset(self._ids)

    @property
    def pending_ids(self) -> frozenset[str]:
        """Ids of starts held until the app accepts or rejects the connection."""
        return frozenset(self._pending)

    def receive_text(self, data: str | bytes) -> None:
        """Handle one frame from the client."""
        if self._state is State.CLOSED:
            return
        try:
            message_type, message = parse_legacy_message(data)
        except InvalidStart as error:
            # The id is sound, so the failure goes to that operation's observer (GQL_ERROR).
            self._outputs.append(legacy_error_frame(dumps(error.id), _errors_json(error.reason)))
            return
        except InvalidMessage as error:
            # PROTOCOL.md, GQL_CONNECTION_ERROR: a message that cannot be parsed is answered with
            # connection_error and otherwise ignored; the socket stays open. (The reference server answers an
            # unknown type with `error` for whatever id came along; with no trustworthy id we use
            # connection_error for every unparsable frame.)
            self._outputs.append(connection_error_frame(error.reason))
            return
        # The parser lets only client types through, and each has an entry for every open state.
        target = LEGACY_TRANSITIONS[(self._state, message_type)]
        if target is _TERMINATED:
            self._close(target)
        elif isinstance(target, Close):
            self._fail(target)
        else:
            self._state = target
            self._handle(message)

    def _handle(self, message: LegacyClientMessage) -> None:
        if isinstance(message, LegacyConnectionInit):
            self._events.append(ConnectionInitReceived(message.payload))
        elif isinstance(message, Start):
            self._start(message)
        elif isinstance(message, Stop):
            # The reference server's unsubscribe: end the operation if it runs (or drop it if still held).
            if self._ids.pop(message.id, None) is not None:
                self._events.append(CompleteReceived(message.id))
            self._pending.pop(message.id, None)
        else:  # pragma: no cover - LEGACY_TRANSITIONS maps connection_terminate to a Close, never here
            raise AssertionError(message)

    def _start(self, message: Start) -> None:
        if self._state is State.AWAITING_INIT:
            # The reference server runs a start sent before any connection_init with no onConnect at all.
            # Here nothing runs before accept(): the operation is refused with GQL_ERROR, the socket stays.
            reason = "Operation sent before connection_init"
            self._outputs.append(legacy_error_frame(dumps(message.id), _errors_json(reason)))
        elif self._state is State.INITIALISING:
            # The reference client sends its starts right behind connection_init without awaiting the ack,
            # and the reference server chains them on onConnect's promise. We hold them until accept()
            # (released in order) or reject() (dropped). A re-start of a held id replaces it.
            self._pending.pop(message.id, None)
            if len(self._pending) >= self._max_pending:
                reason = "Too many operations before connection_ack"
                self._outputs.append(legacy_error_frame(dumps(message.id), _errors_json(reason)))
            else:
                self._pending[message.id] = message.payload
        else:
            self._subscribe(message.id, message.payload)

    def _subscribe(self, id: str, payload: SubscribePayload) -> None:
        # The reference server unsubscribes a running operation whose id a new start reuses: so the old one
        # ends here (CompleteReceived) and the new one starts under the same id.
        id_json = self._ids.pop(id, None)
        if id_json is not None:
            self._events.append(CompleteReceived(id))
        self._ids[id] = id_json or dumps(id)
        self._events.append(SubscribeReceived(id, payload))

    def accept(self, payload: dict[str, Any] | None = None, *, keepalive: bool = False) -> None:
        """Send GQL_CONNECTION_ACK (plus a first `ka` if the transport runs a keep-alive timer: the client arms
        its own timeout on the first `ka`), then release the held starts. No-op once closed."""
        if not self._begin_accept("connection_init"):
            return
        self._outputs.append(connection_ack_frame(payload))
        if keepalive:
            self._outputs.append(KEEP_ALIVE_FRAME)
        pending, self._pending = self._pending, {}
        for id, start_payload in pending.items():
            self._subscribe(id, start_payload)

    def reject(self, reason: str = "Forbidden") -> None:
        """Refuse the connection: connection_error {message: reason}, then close 4403. No-op once closed.
        (The reference server closes with 1011 after its connection_error; 4403 matches graphql-transport-ws,
        and the reference client reads the reason from connection_error, not from the close code.)"""
        if self._state is State.CLOSED:
            return
        if self._state is not State.INITIALISING:
            raise ProtocolMisuseError(f"reject() needs a pending connection_init; state is {self._state.name}")
        self._fail(Close(CloseCode.FORBIDDEN, reason))

    def init_timeout_expired(self) -> None:
        """The transport's init timer fired: connection_error then close 4408 unless acknowledged by now."""
        if self._state in (State.AWAITING_INIT, State.INITIALISING):
            self._fail(Close(CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout"))

    def send_keepalive(self) -> None:
        """Queue a GQL_CONNECTION_KEEP_ALIVE (`ka`); the transport's timer calls this. Only once acknowledged."""
        if self._state is State.ACKNOWLEDGED:
            self._outputs.append(KEEP_ALIVE_FRAME)

    def send_next(self, id: str, payload_json: str) -> bool:
        """Queue a GQL_DATA with an already-encoded result; False (nothing queued) if the id is not active."""
        id_json = self._ids.get(id)
        if id_json is None:
            return False
        self._outputs.append(data_frame(id_json, payload_json))
        return True

    def next_frame(self, id: str, payload_json: str) -> str | None:
        """The hot path's `send_next`: the GQL_DATA frame returned for the caller to write now (nothing is
        queued), or None if the id is not active. Only valid while nothing else waits in `data_to_send()`."""
        id_json = self._ids.get(id)
        return None if id_json is None else data_frame(id_json, payload_json)

    def send_error(self, id: str, errors_json: str) -> bool:
        """Queue a GQL_ERROR (an already-encoded array of GraphQL errors, which the reference client passes to
        the observer as is) and end the id: the client forgets an operation on `error`."""
        id_json = self._ids.pop(id, None)
        if id_json is None:
            return False
        self._outputs.append(legacy_error_frame(id_json, errors_json))
        return True

    def send_complete(self, id: str) -> bool:
        """Queue a GQL_COMPLETE and end the id; False if it was not active (e.g. the client stopped first)."""
        id_json = self._ids.pop(id, None)
        if id_json is None:
            return False
        self._outputs.append(legacy_complete_frame(id_json))
        return True

    def close(self, code: CloseCode, reason: str) -> None:
        """Close from our side (e.g. 4500 on a bug, 1001 on shutdown). Idempotent. A refusal of the client's
        doing (4400 a message too large, 4403 credentials expired or revoked) is told in connection_error too."""
        if self._state is not State.CLOSED:
            close = Close(code, reason)
            if code in _TOLD_TO_CLIENT:
                self._fail(close)
            else:
                self._close(close)

    def connection_lost(self) -> None:
        """The socket is gone: nothing more can be sent, so nothing is queued."""
        self._state = State.CLOSED
        self._ids.clear()
        self._pending.clear()

    def _fail(self, close: Close) -> None:
        # Legacy clients learn why only from connection_error (PROTOCOL.md), so it precedes the close.
        self._outputs.append(connection_error_frame(close.reason))
        self._close(close)

    def _close(self, close: Close) -> None:
        self.connection_lost()
        self._outputs.append(close)


def _errors_json(message: str) -> str:
    return dumps([{"message": message}])
