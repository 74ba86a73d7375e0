"""graphql-transport-ws messages: typed dataclasses, the validating parser, the encoder, hot-path frames."""

from dataclasses import dataclass
from typing import Any, ClassVar, Final

from livegql.core.json import JSONDecodeError, dumps, loads
from livegql.protocol.codes import MessageType

_PREVIEW_CHARS: Final = 32  # how much of a peer's bad value a reason may echo


@dataclass(frozen=True, slots=True)
class SubscribePayload:
    """What a Subscribe message asks to run (PROTOCOL.md, "Subscribe")."""

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ConnectionInit:
    """Client -> server: asks to connect; payload is the connection params ("ConnectionInit")."""

    type: ClassVar[MessageType] = MessageType.CONNECTION_INIT
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ConnectionAck:
    """Server -> client: the connection is accepted, operations may follow ("ConnectionAck")."""

    type: ClassVar[MessageType] = MessageType.CONNECTION_ACK
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    """Either way: a liveness probe the receiver must answer with Pong ("Ping")."""

    type: ClassVar[MessageType] = MessageType.PING
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Pong:
    """Either way: the answer to Ping, or a unidirectional heartbeat ("Pong")."""

    type: ClassVar[MessageType] = MessageType.PONG
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Client -> server: run an operation under a new unique id ("Subscribe")."""

    type: ClassVar[MessageType] = MessageType.SUBSCRIBE
    id: str
    payload: SubscribePayload


@dataclass(frozen=True, slots=True)
class Next:
    """Server -> client: one execution result for the id ("Next")."""

    type: ClassVar[MessageType] = MessageType.NEXT
    id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Error:
    """Server -> client: the operation failed before executing; ends the id, no Complete follows ("Error")."""

    type: ClassVar[MessageType] = MessageType.ERROR
    id: str
    payload: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Complete:
    """Either way: the operation is over, or the client stopped listening ("Complete")."""

    type: ClassVar[MessageType] = MessageType.COMPLETE
    id: str


Message = ConnectionInit | ConnectionAck | Ping | Pong | Subscribe | Next | Error | Complete
_PayloadOnly = ConnectionInit | ConnectionAck | Ping | Pong
_PAYLOAD_ONLY: Final[dict[MessageType, type[_PayloadOnly]]] = {
    cls.type: cls for cls in (ConnectionInit, ConnectionAck, Ping, Pong)
}


class InvalidMessage(ValueError):
    """A frame broke PROTOCOL.md's message rules; `reason` says how, briefly (it goes in a close frame)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_envelope(data: str | bytes) -> tuple[str, dict[str, Any]]:
    """A frame's `type` and the whole object, for either WebSocket protocol; raise InvalidMessage when the
    frame is not JSON, not an object, or has no string `type`."""
    try:
        raw = loads(data)
    except JSONDecodeError:
        raise InvalidMessage("Message is not valid UTF-8 JSON") from None
    if not isinstance(raw, dict):
        raise InvalidMessage(f"Message must be an object, not {json_kind(raw)}")
    kind = raw.get("type")
    if kind is None or kind == "":
        raise InvalidMessage("Message is missing the 'type' property")
    if not isinstance(kind, str):
        raise InvalidMessage(f"Message 'type' must be a string, not {json_kind(kind)}")
    return kind, raw


def parse_message(data: str | bytes) -> Message:
    """Decode and validate one frame, as graphql-ws's validateMessage does; raise InvalidMessage otherwise."""
    kind, raw = read_envelope(data)
    try:
        message_type = MessageType(kind)
    except ValueError:
        raise InvalidMessage(f"Unknown message type {preview(kind)}") from None
    return _validate(message_type, raw)


def _validate(message_type: MessageType, raw: dict[str, Any]) -> Message:
    if message_type in _PAYLOAD_ONLY:
        # ConnectionInit, ConnectionAck, Ping, Pong: "payload?: Record<string, unknown>", null tolerated.
        return _PAYLOAD_ONLY[message_type](_optional_object(raw, "payload", f'"{message_type}" payload'))
    id = _id(raw, message_type)
    payload = raw.get("payload")
    if message_type is MessageType.SUBSCRIBE:
        return Subscribe(id, _subscribe_payload(payload))
    if message_type is MessageType.NEXT:
        if not isinstance(payload, dict):
            raise InvalidMessage(f'"next" payload must be an object, not {json_kind(payload)}')
        return Next(id, payload)
    if message_type is MessageType.ERROR:
        # "payload: GraphQLError[]": graphql-ws wants at least one, each with a message.
        if not (isinstance(payload, list) and payload and all(_is_error(item) for item in payload)):
            raise InvalidMessage('"error" payload must be a non-empty array of GraphQL errors')
        return Error(id, payload)
    return Complete(id)


def _id(raw: dict[str, Any], message_type: MessageType) -> str:
    value = raw.get("id")
    if not isinstance(value, str):
        raise InvalidMessage(f'"{message_type}" id must be a string, not {json_kind(value)}')
    if not value:
        raise InvalidMessage(f'"{message_type}" id must not be empty')
    return value


def parse_request(data: str | bytes) -> SubscribePayload:
    """A bare GraphQL request `{"query", "variables", "operationName", "extensions"}` (the plain WebSocket
    mode's only message), validated as a Subscribe payload is; raises InvalidMessage."""
    try:
        raw = loads(data)
    except JSONDecodeError:
        raise InvalidMessage("Message is not valid UTF-8 JSON") from None
    return _subscribe_payload(raw)


def _subscribe_payload(payload: Any) -> SubscribePayload:
    if not isinstance(payload, dict):
        raise InvalidMessage(f'"subscribe" payload must be an object, not {json_kind(payload)}')
    query = payload.get("query")
    if not isinstance(query, str):
        raise InvalidMessage(f'"subscribe" query must be a string, not {json_kind(query)}')
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        kind = json_kind(operation_name)
        raise InvalidMessage(f'"subscribe" operationName must be a string or null, not {kind}')
    return SubscribePayload(
        query=query,
        variables=_optional_object(payload, "variables", '"subscribe" variables'),
        operation_name=operation_name,
        extensions=_optional_object(payload, "extensions", '"subscribe" extensions'),
    )


def _optional_object(raw: dict[str, Any], key: str, what: str) -> dict[str, Any] | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, dict):
        raise InvalidMessage(f"{what} must be an object or null, not {json_kind(value)}")
    return value


def _is_error(item: Any) -> bool:
    return isinstance(item, dict) and "message" in item


def json_kind(value: Any) -> str:
    """JSON's name for a value's type, for reasons a client developer can act on."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def preview(text: str) -> str:
    short = text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + "..."
    return dumps(short)


def encode_message(message: Message) -> str:
    """Serialise a message to one text frame; absent optional fields are left out, as graphql-ws does."""
    wire: dict[str, Any]
    if isinstance(message, Subscribe):
        wire = {"id": message.id, "type": message.type.value, "payload": _subscribe_wire(message.payload)}
    elif isinstance(message, Next | Error):
        wire = {"id": message.id, "type": message.type.value, "payload": message.payload}
    elif isinstance(message, Complete):
        wire = {"id": message.id, "type": message.type.value}
    else:
        wire = {"type": message.type.value}
        if message.payload is not None:
            wire["payload"] = message.payload
    return dumps(wire)


def _subscribe_wire(payload: SubscribePayload) -> dict[str, Any]:
    wire: dict[str, Any] = {"query": payload.query}
    if payload.variables is not None:
        wire["variables"] = payload.variables
    if payload.operation_name is not None:
        wire["operationName"] = payload.operation_name
    if payload.extensions is not None:
        wire["extensions"] = payload.extensions
    return wire


# Hot path (DESIGN.md, "encode once, send to many"): the id is encoded once per subscribe and the payload
# once per event, so a frame is plain concatenation. The output is byte-identical to encode_message's.


_BARE_PONG = '{"type":"pong"}'


def pong_frame(ping_payload: dict[str, Any] | None) -> str:
    """The answer to a Ping: the payload echoed, as graphql-ws does, so peers can match pongs to pings."""
    return _BARE_PONG if ping_payload is None else encode_message(Pong(ping_payload))


def next_frame(id_json: str, payload_json: str) -> str:
    """A Next frame from an already-encoded id and an already-encoded execution result."""
    return '{"id":' + id_json + ',"type":"next","payload":' + payload_json + "}"


def error_frame(id_json: str, errors_json: str) -> str:
    """An Error frame from an already-encoded id and an already-encoded array of GraphQL errors."""
    return '{"id":' + id_json + ',"type":"error","payload":' + errors_json + "}"


def complete_frame(id_json: str) -> str:
    """A Complete frame from an already-encoded id."""
    return '{"id":' + id_json + ',"type":"complete"}'
