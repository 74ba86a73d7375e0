"""The server side of graphql-transport-ws as a sans-I/O machine: text frames in, events and frames out."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from livegql.core.errors import ProtocolMisuseError
from livegql.core.json import dumps
from livegql.protocol.codes import CloseCode, MessageType
from livegql.protocol.common import (
    REFRESH_KEY,
    Close,
    Output,
    PingReceived,
    PongReceived,
    RefreshReceived,
    ServerMachineBase,
    State,
)
from livegql.protocol.messages import (
    Complete,
    ConnectionAck,
    ConnectionInit,
    InvalidMessage,
    Message,
    Ping,
    Pong,
    Subscribe,
    SubscribePayload,
    complete_frame,
    encode_message,
    error_frame,
    next_frame,
    parse_message,
    pong_frame,
)

__all__ = [
    "TRANSITIONS",
    "Close",
    "CompleteReceived",
    "ConnectionInitReceived",
    "Event",
    "Output",
    "PingReceived",
    "PongReceived",
    "RefreshReceived",
    "ServerProtocol",
    "State",
    "SubscribeReceived",
]


_OPEN: Final = (State.AWAITING_INIT, State.INITIALISING, State.ACKNOWLEDGED)
_TOO_MANY_INITS: Final = Close(CloseCode.TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests")
_UNAUTHORIZED: Final = Close(CloseCode.UNAUTHORIZED, "Unauthorized")

# Where each client message leads from each open state: the next state, or the Close it earns.
# A pair absent here is a server-only type (connection_ack, next, error): "Invalid message", 4400.
# Local calls: accept() INITIALISING -> ACKNOWLEDGED; reject(), close(), init_timeout_expired() and
# connection_lost() -> CLOSED.
TRANSITIONS: Final[Mapping[tuple[State, MessageType], State | Close]] = {
    # "ConnectionInit": more than one per socket closes with 4429.
    (State.AWAITING_INIT, MessageType.CONNECTION_INIT): State.INITIALISING,
    (State.INITIALISING, MessageType.CONNECTION_INIT): _TOO_MANY_INITS,
    (State.ACKNOWLEDGED, MessageType.CONNECTION_INIT): _TOO_MANY_INITS,
    # "Subscribe": executing operations is allowed only after ConnectionAck, else 4401.
    (State.AWAITING_INIT, MessageType.SUBSCRIBE): _UNAUTHORIZED,
    (State.INITIALISING, MessageType.SUBSCRIBE): _UNAUTHORIZED,
    (State.ACKNOWLEDGED, MessageType.SUBSCRIBE): State.ACKNOWLEDGED,
    # "Ping"/"Pong": at any time within the established socket; "Complete" for an unknown id is a no-op.
    **{(state, kind): state for state in _OPEN for kind in (MessageType.PING, MessageType.PONG)},
    **{(state, MessageType.COMPLETE): state for state in _OPEN},
}


@dataclass(frozen=True, slots=True)
class ConnectionInitReceived:
    """The client asked to connect; answer with accept() or reject() (or let the init timeout fire)."""

    payload: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class SubscribeReceived:
    """The client asked to run an operation; its id is already reserved."""

    id: str
    payload: SubscribePayload


@dataclass(frozen=True, slots=True)
class CompleteReceived:
    """The client stopped listening to an active operation; its id is already free."""

    id: str


Event = ConnectionInitReceived | SubscribeReceived | CompleteReceived | PingReceived | PongReceived | RefreshReceived


class ServerProtocol(ServerMachineBase[Event]):
    """One socket's graphql-transport-ws server state. Peer errors become a Close output; misuse raises."""

    def __init__(self) -> None:
        super().__init__(State.AWAITING_INIT)
        self._ids: dict[str, str] = {}  # active id -> its JSON encoding, made once per subscribe

    @property
    def active_ids(self) -> frozenset[str]:
        return frozenset(self._ids)

    def receive_text(self, data: str | bytes) -> None:
        """Handle one frame from the client."""
        if self._state is State.CLOSED:
            return
        try:
            message = parse_message(data)
        except InvalidMessage as error:
            self._close(Close(CloseCode.BAD_REQUEST, error.reason))
            return
        target = TRANSITIONS.get((self._state, message.type))
        if target is None:
            self._close(Close(CloseCode.BAD_REQUEST, f'Unexpected "{message.type}" message from a client'))
        elif isinstance(target, Close):
            self._close(target)
        else:
            self._state = target
            self._handle(message)

    def _handle(self, message: Message) -> None:
        if isinstance(message, ConnectionInit):
            self._events.append(ConnectionInitReceived(message.payload))
        elif isinstance(message, Subscribe):
            self._subscribe(message)
        elif isinstance(message, Complete):
            # "Complete": the client stopped listening; an id we do not know is ignored.
            if self._ids.pop(message.id, None) is not None:
                self._events.append(CompleteReceived(message.id))
        elif isinstance(message, Ping):
            # "Ping": a Pong must be sent in response as soon as possible.
            self._outputs.append(pong_frame(message.payload))
            self._ping(message.payload)
        elif isinstance(message, Pong):
            self._events.append(PongReceived(message.payload))
        else:  # pragma: no cover - TRANSITIONS routes no server-only type here
            raise AssertionError(message)

    def _ping(self, payload: dict[str, Any] | None) -> None:
        # The spec leaves a Ping's payload to the peers: livegql reads a `refresh` object as new credentials,
        # which the graphql-ws client (and gql's send_ping) can send without leaving the protocol. Anything else
        # is an ordinary Ping, as the spec has it: a peer must not be closed for a payload the spec allows.
        refresh = payload.get(REFRESH_KEY) if payload is not None else None
        if isinstance(refresh, dict) and self._state is State.ACKNOWLEDGED:
            self._events.append(RefreshReceived(refresh))
        else:
            self._events.append(PingReceived(payload))

    def _subscribe(self, message: Subscribe) -> None:
        # "Subscribe": reserved here, before the transport awaits anything, so a duplicate always gets 4409.
        if message.id in self._ids:
            reason = f"Subscriber for {message.id} already exists"
            self._close(Close(CloseCode.SUBSCRIBER_ALREADY_EXISTS, reason))
            return
        self._ids[message.id] = dumps(message.id)
        self._events.append(SubscribeReceived(message.id, message.payload))

    def accept(self, payload: dict[str, Any] | None = None) -> None:
        """Acknowledge the connection ("ConnectionAck"), optionally with a payload. No-op once closed."""
        if self._begin_accept("ConnectionInit"):  # else closed (4429, timeout, peer gone) while the app decided
            self._outputs.append(encode_message(ConnectionAck(payload)))

    def reject(self, reason: str = "Forbidden") -> None:
        """Refuse the connection: close 4403. No-op once closed."""
        if self._state is State.CLOSED:
            return
        if self._state is not State.INITIALISING:
            raise ProtocolMisuseError(f"reject() needs a pending ConnectionInit; state is {self._state.name}")
        self._close(Close(CloseCode.FORBIDDEN, reason))

    def init_timeout_expired(self) -> None:
        """The transport's init timer fired: close 4408 unless the connection was acknowledged by now."""
        if self._state in (State.AWAITING_INIT, State.INITIALISING):
            reason = "Connection initialisation timeout"
            self._close(Close(CloseCode.CONNECTION_INITIALISATION_TIMEOUT, reason))

    def send_ping(self, payload: dict[str, Any] | None = None) -> None:
        """Queue a Ping (allowed at any time within the established socket). No-op once closed."""
        if self._state is not State.CLOSED:
            self._outputs.append(encode_message(Ping(payload)))

    def send_next(self, id: str, payload_json: str) -> bool:
        """Queue a Next with an already-encoded result; False (nothing queued) if the id is not active."""
        id_json = self._ids.get(id)
        if id_json is None:
            return False
        self._outputs.append(next_frame(id_json, payload_json))
        return True

    def next_frame(self, id: str, payload_json: str) -> str | None:
        """The hot path's `send_next`: the Next frame returned for the caller to write now (nothing is queued
        here), or None if the id is not active. Only valid while nothing else waits in `data_to_send()`."""
        id_json = self._ids.get(id)
        return None if id_json is None else next_frame(id_json, payload_json)

    def send_error(self, id: str, errors_json: str) -> bool:
        """Queue an Error (already-encoded GraphQL errors) and end the id ("Error": no Complete follows)."""
        id_json = self._ids.pop(id, None)
        if id_json is None:
            return False
        self._outputs.append(error_frame(id_json, errors_json))
        return True

    def send_complete(self, id: str) -> bool:
        """Queue a Complete and end the id; False if it was not active (e.g. the client completed first)."""
        id_json = self._ids.pop(id, None)
        if id_json is None:
            return False
        self._outputs.append(complete_frame(id_json))
        return True

    def close(self, code: CloseCode, reason: str) -> None:
        """Close from our side (e.g. 4500 on a bug, 1001 on shutdown). Idempotent."""
        if self._state is not State.CLOSED:
            self._close(Close(code, reason))

    def connection_lost(self) -> None:
        """The socket is gone: nothing more can be sent, so nothing is queued."""
        self._state = State.CLOSED
        self._ids.clear()

    def _close(self, close: Close) -> None:
        self._state = State.CLOSED
        self._ids.clear()
        self._outputs.append(close)
