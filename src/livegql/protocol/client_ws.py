"""The client side of graphql-transport-ws as a sans-I/O machine, for livegql's Python client."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any, Final

from livegql.core.errors import ProtocolMisuseError
from livegql.core.json import dumps
from livegql.protocol.codes import CloseCode, MessageType
from livegql.protocol.common import Close, Output, PingReceived, PongReceived
from livegql.protocol.messages import (
    Complete,
    ConnectionAck,
    ConnectionInit,
    Error,
    InvalidMessage,
    Message,
    Next,
    Ping,
    Pong,
    Subscribe,
    SubscribePayload,
    complete_frame,
    encode_message,
    parse_message,
    pong_frame,
)

__all__ = [
    "CLIENT_TRANSITIONS",
    "ClientEvent",
    "ClientProtocol",
    "ClientState",
    "ConnectionAckReceived",
    "ErrorReceived",
    "NextReceived",
    "PingReceived",
    "PongReceived",
    "ServerCompleteReceived",
]


class ClientState(Enum):
    AWAITING_ACK = auto()  # socket open; ConnectionInit sent (or about to be), no ConnectionAck yet
    ACKNOWLEDGED = auto()  # the server acknowledged: operations may be subscribed
    CLOSED = auto()  # a Close was queued or the socket is gone; terminal, everything is ignored


def _first_message(kind: MessageType) -> Close:
    return Close(CloseCode.BAD_RESPONSE, f'First message cannot be of type "{kind}"')


# Where each server message leads from each open state: the next state, a Close, or None (ignored).
# A pair absent here is a client-only type (connection_init, subscribe): "Invalid message", 4004.
# Local calls: ack_timeout_expired(), close() and connection_lost() -> CLOSED.
CLIENT_TRANSITIONS: Final[Mapping[tuple[ClientState, MessageType], ClientState | Close | None]] = {
    # "ConnectionAck" must come before anything but Ping/Pong; graphql-ws's client ignores a repeat.
    (ClientState.AWAITING_ACK, MessageType.CONNECTION_ACK): ClientState.ACKNOWLEDGED,
    (ClientState.ACKNOWLEDGED, MessageType.CONNECTION_ACK): None,
    **{
        (ClientState.AWAITING_ACK, kind): _first_message(kind)
        for kind in (MessageType.NEXT, MessageType.ERROR, MessageType.COMPLETE)
    },
    **{
        (ClientState.ACKNOWLEDGED, kind): ClientState.ACKNOWLEDGED
        for kind in (MessageType.NEXT, MessageType.ERROR, MessageType.COMPLETE)
    },
    # "Ping"/"Pong": at any time within the established socket.
    **{
        (state, kind): state
        for state in (ClientState.AWAITING_ACK, ClientState.ACKNOWLEDGED)
        for kind in (MessageType.PING, MessageType.PONG)
    },
}


@dataclass(frozen=True, slots=True)
class ConnectionAckReceived:
    """The server acknowledged the connection; subscribe() is allowed from now on."""

    payload: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class NextReceived:
    """One execution result for an active operation."""

    id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErrorReceived:
    """The operation failed before executing (usually validation); its id is already free."""

    id: str
    errors: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ServerCompleteReceived:
    """The server finished the operation; its id is already free."""

    id: str


ClientEvent = (
    ConnectionAckReceived | NextReceived | ErrorReceived | ServerCompleteReceived | PingReceived | PongReceived
)


class ClientProtocol:
    """One socket's graphql-transport-ws client state. Server errors become a Close output; misuse raises."""

    def __init__(self, connection_params: dict[str, Any] | None = None) -> None:
        self._connection_params = connection_params
        self._initiated = False
        self._state = ClientState.AWAITING_ACK
        self._ids: dict[str, str] = {}  # active id -> its JSON encoding
        self._events: list[ClientEvent] = []
        self._outputs: list[Output] = []

    @property
    def state(self) -> ClientState:
        return self._state

    @property
    def acknowledged(self) -> bool:
        return self._state is ClientState.ACKNOWLEDGED

    @property
    def active_ids(self) -> frozenset[str]:
        return frozenset(self._ids)

    def events_received(self) -> list[ClientEvent]:
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[Output]:
        outputs, self._outputs = self._outputs, []
        return outputs

    def initiate(self) -> None:
        """Queue ConnectionInit with the connection params; call once, right after the socket opens."""
        if self._initiated:
            raise ProtocolMisuseError("initiate() was already called")
        self._initiated = True
        if self._state is not ClientState.CLOSED:
            self._outputs.append(encode_message(ConnectionInit(self._connection_params)))

    def receive_text(self, data: str | bytes) -> None:
        """Handle one frame from the server."""
        if self._state is ClientState.CLOSED:
            return
        try:
            message = parse_message(data)
        except InvalidMessage as error:
            self._close(Close(CloseCode.BAD_RESPONSE, error.reason))
            return
        key = (self._state, message.type)
        if key not in CLIENT_TRANSITIONS:
            self._close(Close(CloseCode.BAD_RESPONSE, f'Unexpected "{message.type}" message from a server'))
            return
        target = CLIENT_TRANSITIONS[key]
        if isinstance(target, Close):
            self._close(target)
        elif target is not None:
            self._state = target
            self._handle(message)

    def _handle(self, message: Message) -> None:
        if isinstance(message, ConnectionAck):
            self._events.append(ConnectionAckReceived(message.payload))
        elif isinstance(message, Next):
            # An id we no longer have lost a race with our own complete(): drop it quietly.
            if message.id in self._ids:
                self._events.append(NextReceived(message.id, message.payload))
        elif isinstance(message, Error):
            if self._ids.pop(message.id, None) is not None:
                self._events.append(ErrorReceived(message.id, message.payload))
        elif isinstance(message, Complete):
            if self._ids.pop(message.id, None) is not None:
                self._events.append(ServerCompleteReceived(message.id))
        elif isinstance(message, Ping):
            # "Ping": a Pong must be sent in response as soon as possible.
            self._outputs.append(pong_frame(message.payload))
            self._events.append(PingReceived(message.payload))
        elif isinstance(message, Pong):
            self._events.append(PongReceived(message.payload))
        else:  # pragma: no cover - CLIENT_TRANSITIONS routes no client-only type here
            raise AssertionError(message)

    def subscribe(self, id: str, payload: SubscribePayload) -> None:
        """Queue a Subscribe and reserve the id; it stays active until Error, Complete or complete()."""
        if self._state is not ClientState.ACKNOWLEDGED:
            raise ProtocolMisuseError(f"subscribe() needs an acknowledged connection, not {self._state.name}")
        if not id:
            raise ProtocolMisuseError("subscribe() needs a non-empty id")
        if id in self._ids:
            raise ProtocolMisuseError(f"subscribe() id {id!r} is already active")
        self._ids[id] = dumps(id)
        self._outputs.append(encode_message(Subscribe(id, payload)))

    def complete(self, id: str) -> bool:
        """Stop listening to an operation: queue Complete and free the id; False if it was not active."""
        id_json = self._ids.pop(id, None)
        if id_json is None:
            return False
        self._outputs.append(complete_frame(id_json))
        return True

    def send_ping(self, payload: dict[str, Any] | None = None) -> None:
        """Queue a Ping. No-op once closed."""
        if self._state is not ClientState.CLOSED:
            self._outputs.append(encode_message(Ping(payload)))

    def ack_timeout_expired(self) -> None:
        """The transport's ack timer fired: close 4504 unless the server has acknowledged by now."""
        if self._state is ClientState.AWAITING_ACK:
            reason = "Connection acknowledgement timeout"
            self._close(Close(CloseCode.CONNECTION_ACKNOWLEDGEMENT_TIMEOUT, reason))

    def close(self, code: CloseCode = CloseCode.NORMAL_CLOSURE, reason: str = "Normal Closure") -> None:
        """Close from our side (1000 when done, 4005 on a bug). Idempotent."""
        if self._state is not ClientState.CLOSED:
            self._close(Close(code, reason))

    def connection_lost(self) -> None:
        """The socket is gone: nothing more can be sent, so nothing is queued."""
        self._state = ClientState.CLOSED
        self._ids.clear()

    def _close(self, close: Close) -> None:
        self._state = ClientState.CLOSED
        self._ids.clear()
        self._outputs.append(close)
