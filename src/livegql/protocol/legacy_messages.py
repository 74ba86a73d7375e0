"""subscriptions-transport-ws ("graphql-ws") messages: the client messages' parser and the server's frames.

Message names and fields follow apollographql/subscriptions-transport-ws PROTOCOL.md.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from livegql.core.json import dumps
from livegql.protocol.messages import InvalidMessage, SubscribePayload, json_kind, preview, read_envelope


class LegacyMessageType(StrEnum):
    """The `type` field of every legacy message (PROTOCOL.md, "Client -> Server" and "Server -> Client")."""

    CONNECTION_INIT = "connection_init"  # client -> server
    START = "start"  # client -> server
    STOP = "stop"  # client -> server
    CONNECTION_TERMINATE = "connection_terminate"  # client -> server
    CONNECTION_ACK = "connection_ack"  # server -> client
    CONNECTION_ERROR = "connection_error"  # server -> client
    CONNECTION_KEEP_ALIVE = "ka"  # server -> client
    DATA = "data"  # server -> client
    ERROR = "error"  # server -> client
    COMPLETE = "complete"  # server -> client


@dataclass(frozen=True, slots=True)
class LegacyConnectionInit:
    """Client -> server: asks to connect; payload is the client's `connectionParams` (GQL_CONNECTION_INIT)."""

    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Start:
    """Client -> server: run an operation under an id (GQL_START)."""

    id: str
    payload: SubscribePayload


@dataclass(frozen=True, slots=True)
class Stop:
    """Client -> server: stop a running operation (GQL_STOP)."""

    id: str


@dataclass(frozen=True, slots=True)
class ConnectionTerminate:
    """Client -> server: the client is done with the socket (GQL_CONNECTION_TERMINATE)."""


LegacyClientMessage = LegacyConnectionInit | Start | Stop | ConnectionTerminate
"""What `parse_legacy_message` returns: the four client -> server messages; `type` names each one."""


class InvalidStart(InvalidMessage):
    """A `start` whose id is valid but whose payload is not: the error can be answered for that id."""

    def __init__(self, id: str, reason: str) -> None:
        super().__init__(reason)
        self.id = id


def parse_legacy_message(data: str | bytes) -> tuple[LegacyMessageType, LegacyClientMessage]:
    """Decode and validate one client frame; raise InvalidMessage (InvalidStart for a bad start payload)."""
    kind, raw = read_envelope(data)
    try:
        message_type = LegacyMessageType(kind)
    except ValueError:
        raise InvalidMessage(f"Invalid message type {preview(kind)}") from None
    return message_type, _validate(message_type, raw)


def _validate(message_type: LegacyMessageType, raw: dict[str, Any]) -> LegacyClientMessage:
    if message_type is LegacyMessageType.CONNECTION_INIT:
        payload = raw.get("payload")
        if payload is not None and not isinstance(payload, dict):
            raise InvalidMessage(f'"connection_init" payload must be an object or null, not {json_kind(payload)}')
        return LegacyConnectionInit(payload)
    if message_type is LegacyMessageType.CONNECTION_TERMINATE:
        return ConnectionTerminate()
    if message_type is LegacyMessageType.START:
        id = _id(raw, message_type)
        return Start(id, _start_payload(id, raw.get("payload")))
    if message_type is LegacyMessageType.STOP:
        return Stop(_id(raw, message_type))
    raise InvalidMessage(f'Unexpected "{message_type}" message from a client')


def _id(raw: dict[str, Any], message_type: LegacyMessageType) -> str:
    value = raw.get("id")
    if not isinstance(value, str):
        raise InvalidMessage(f'"{message_type}" id must be a string, not {json_kind(value)}')
    if not value:
        raise InvalidMessage(f'"{message_type}" id must not be empty')
    return value


def _start_payload(id: str, payload: Any) -> SubscribePayload:
    if not isinstance(payload, dict):
        raise InvalidStart(id, f'"start" payload must be an object, not {json_kind(payload)}')
    query = payload.get("query")
    if not isinstance(query, str):
        raise InvalidStart(id, f'"start" query must be a string, not {json_kind(query)}')
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise InvalidStart(id, f'"start" operationName must be a string or null, not {json_kind(operation_name)}')
    variables, extensions = payload.get("variables"), payload.get("extensions")
    for name, value in (("variables", variables), ("extensions", extensions)):
        if value is not None and not isinstance(value, dict):
            raise InvalidStart(id, f'"start" {name} must be an object or null, not {json_kind(value)}')
    return SubscribePayload(query, variables, operation_name, extensions)


# Server frames. Hot path (DESIGN.md, "encode once, send to many"): the id is encoded once per start and the
# payload once per event, so a frame is plain concatenation.

KEEP_ALIVE_FRAME: Final = '{"type":"ka"}'


def connection_ack_frame(payload: dict[str, Any] | None) -> str:
    """GQL_CONNECTION_ACK; the reference server sends no payload, so none is written unless given."""
    return '{"type":"connection_ack"}' if payload is None else dumps({"type": "connection_ack", "payload": payload})


def connection_error_frame(message: str) -> str:
    """GQL_CONNECTION_ERROR with the reference server's payload shape, `{"message": ...}`."""
    return dumps({"type": "connection_error", "payload": {"message": message}})


def data_frame(id_json: str, payload_json: str) -> str:
    """GQL_DATA from an already-encoded id and an already-encoded execution result."""
    return '{"id":' + id_json + ',"type":"data","payload":' + payload_json + "}"


def legacy_error_frame(id_json: str, errors_json: str) -> str:
    """GQL_ERROR from an already-encoded id and an already-encoded array of GraphQL errors."""
    return '{"id":' + id_json + ',"type":"error","payload":' + errors_json + "}"


def legacy_complete_frame(id_json: str) -> str:
    """GQL_COMPLETE from an already-encoded id."""
    return '{"id":' + id_json + ',"type":"complete"}'
