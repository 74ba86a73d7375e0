"""The oracle for the WebSocket protocols, written from their specs (not from the server's machines): what a
conforming server must answer to a sequence of client frames.

graphql-transport-ws: graphql-ws PROTOCOL.md. legacy: subscriptions-transport-ws PROTOCOL.md, with livegql's
documented choices where it is silent (docs/architecture.md). plain: livegql's plain mode (docs).
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from tests.fuzz import spec_json

TRANSPORT_WS: Final = "graphql-transport-ws"
LEGACY: Final = "legacy-graphql-ws"
PLAIN: Final = "plain-ws"
MAX_MESSAGE_BYTES: Final = 64 * 1024  # the server's default WebSocket message limit: larger closes 4400

BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, DUPLICATE, TOO_MANY_INITS, NORMAL = 4400, 4401, 4403, 4409, 4429, 1000
INVALID_PAYLOAD = 1007  # RFC 6455 section 8.1: a text frame that is not UTF-8 fails the connection
CLIENT_TYPES: Final = {
    TRANSPORT_WS: frozenset({"connection_init", "ping", "pong", "subscribe", "complete"}),
    LEGACY: frozenset({"connection_init", "start", "stop", "connection_terminate"}),
}


@dataclass(frozen=True, slots=True)
class Frame:
    """One client frame, and what the generator meant by it: `held` marks an operation that runs until
    stopped (a subscription to a topic, a live query); any other operation ends by itself."""

    data: str | bytes
    held: bool = False


@dataclass
class Prediction:
    """What the server must do with a connection's frames."""

    sent: int = 0  # frames to send: those after a frame that closes the socket are not sent
    close: int | None = None  # the close code the spec names, None: the socket stays open
    waits_for_ack: set[int] = field(default_factory=set)  # indices after which the client awaits the ack
    pongs: list[Any] = field(default_factory=list)  # payloads (None: none) the pongs must echo, in order
    ends: Counter[str] = field(default_factory=Counter)  # terminal messages (complete/error) owed per id
    held: set[str] = field(default_factory=set)  # ids running when the frames end (no terminal owed)
    started: set[str] = field(default_factory=set)  # every id the server may send results for
    connection_errors: int = 0  # legacy: connection_error answers owed
    error_frames: int = 0  # plain: `{"errors": [...]}` answers owed (at least)
    acknowledged: bool = False


def decode(frame: Frame) -> Any:
    """The frame's JSON value, or INVALID (not UTF-8 JSON, or beyond the message size limit)."""
    size = len(frame.data) if isinstance(frame.data, bytes) else len(frame.data.encode("utf-8", "surrogatepass"))
    return spec_json.INVALID if size > MAX_MESSAGE_BYTES else spec_json.decode(frame.data)


def not_text(frame: Frame) -> bool:
    """A text frame whose bytes are not UTF-8: the WebSocket layer fails the connection, whatever protocol."""
    return isinstance(frame.data, spec_json.TextBytes) and not spec_json.valid_utf8(frame.data)


def too_large(frame: Frame) -> bool:
    data = frame.data if isinstance(frame.data, bytes) else frame.data.encode("utf-8", "surrogatepass")
    return len(data) > MAX_MESSAGE_BYTES


def _record(value: Any) -> bool:
    """`Record<string, unknown>`: a JSON object (an array is not one)."""
    return isinstance(value, dict)


def _optional_record(value: dict[str, Any], key: str) -> bool:
    return value.get(key) is None or _record(value[key])


def _id(value: dict[str, Any]) -> str | None:
    id = value.get("id")
    return id if isinstance(id, str) and id else None


def request_ok(payload: Any) -> bool:
    """A GraphQL request `{query, variables?, operationName?, extensions?}` (Subscribe's payload, plain's frame)."""
    return (
        _record(payload)
        and isinstance(payload.get("query"), str)
        and _optional_record(payload, "variables")
        and _optional_record(payload, "extensions")
        and (payload.get("operationName") is None or isinstance(payload["operationName"], str))
    )


def transport_ws_message(value: Any) -> tuple[str, dict[str, Any]] | None:
    """PROTOCOL.md's client message shapes: (type, message), or None for anything the server closes 4400 on."""
    if not _record(value) or not isinstance(value.get("type"), str):
        return None
    kind = value["type"]
    if kind in ("connection_init", "ping", "pong"):
        return (kind, value) if _optional_record(value, "payload") else None
    if kind == "subscribe":
        return (kind, value) if _id(value) and request_ok(value.get("payload")) else None
    if kind == "complete":
        return (kind, value) if _id(value) else None
    return None  # unknown, or a server -> client type


def predict_transport_ws(frames: list[Frame], *, undecided: bool = False) -> Prediction:
    """`undecided`: the app's on_connect never decides while the frames arrive (the connection stays
    initialising), which only a machine fed directly can hold still."""
    p, init_sent, active = Prediction(), False, set[str]()
    for index, frame in enumerate(frames):
        p.sent = index + 1
        if not_text(frame):
            p.close = INVALID_PAYLOAD
            break
        parsed = None if too_large(frame) else transport_ws_message(decode(frame))
        if parsed is None:
            p.close = BAD_REQUEST
            break
        kind, message = parsed
        if kind == "connection_init":
            # "ConnectionInit": a second one closes 4429; the fuzz app's on_connect refuses a `reject` payload.
            p.close = TOO_MANY_INITS if init_sent else None if undecided else _verdict(message, p, index)
            init_sent = True
            if p.close is not None:
                break
        elif kind == "ping":
            p.pongs.append(message.get("payload"))  # "Ping": answered with a Pong
        elif kind == "subscribe":
            id = message["id"]
            if not p.acknowledged:
                p.close = UNAUTHORIZED  # "Subscribe" before ConnectionAck: 4401
                break
            if id in active:
                p.close = DUPLICATE  # "Subscribe" with an id that is already active: 4409
                break
            p.started.add(id)
            if frame.held:
                active.add(id)
            else:
                p.ends[id] += 1  # it ends by itself: Complete or Error
        elif kind == "complete":
            active.discard(message["id"])  # the client stopped listening; an unknown id is ignored
    p.held = active if p.close is None else set()
    return p


def _verdict(init: dict[str, Any], p: Prediction, index: int) -> int | None:
    """The fuzz app's on_connect: 4403 for a `reject` payload, else the client awaits its acknowledgement."""
    if (init.get("payload") or {}).get("reject") is True:
        return FORBIDDEN
    p.acknowledged = True
    p.waits_for_ack.add(index)
    return None


def legacy_message(value: Any) -> tuple[str, dict[str, Any]] | str | None:
    """subscriptions-transport-ws client messages: (type, message); an id str for a `start` whose id is sound
    but whose payload is not (answered with `error` for that id); None for what gets `connection_error`."""
    if not _record(value) or not isinstance(value.get("type"), str) or value["type"] not in CLIENT_TYPES[LEGACY]:
        return None
    kind = value["type"]
    if kind == "connection_init":
        return (kind, value) if _optional_record(value, "payload") else None
    if kind in ("start", "stop"):
        id = _id(value)
        if id is None:
            return None
        if kind == "start" and not request_ok(value.get("payload")):
            return id
    return kind, value


def predict_legacy(frames: list[Frame]) -> Prediction:
    p, init_sent, active = Prediction(), False, set[str]()
    for index, frame in enumerate(frames):
        p.sent = index + 1
        if not_text(frame) or too_large(frame):
            p.close = INVALID_PAYLOAD if not_text(frame) else BAD_REQUEST
            # A close of the server's own (4400, message too large) is told in connection_error first, the only
            # way a legacy client learns why; the WebSocket layer's 1007 comes before livegql hears anything.
            p.connection_errors += 0 if not_text(frame) else 1
            break
        parsed = legacy_message(decode(frame))
        if parsed is None:
            p.connection_errors += 1  # GQL_CONNECTION_ERROR; the socket stays open
            continue
        if isinstance(parsed, str):
            p.ends[parsed] += 1  # GQL_ERROR for that operation
            p.started.add(parsed)
            continue
        kind, message = parsed
        if kind == "connection_init":
            # livegql's documented choice: a second init is refused as graphql-transport-ws does (4429); a
            # refusal (4403) is preceded by connection_error, the only way a legacy client learns why.
            p.close = TOO_MANY_INITS if init_sent else _verdict(message, p, index)
            init_sent = True
            if p.close is not None:
                p.connection_errors += 1
                break
        elif kind == "connection_terminate":
            p.close = NORMAL
            break
        elif kind == "stop":
            active.discard(message["id"])
        else:
            id = message["id"]
            p.started.add(id)
            active.discard(id)  # a start reusing a running id replaces that operation
            if p.acknowledged and frame.held:
                active.add(id)
            else:
                p.ends[id] += 1  # ends by itself, or refused (GQL_ERROR) before connection_init
    p.held = active if p.close is None else set()
    return p


def predict_plain(frames: list[Frame]) -> Prediction:
    p = Prediction(acknowledged=True)
    for index, frame in enumerate(frames):
        p.sent = index + 1
        if not_text(frame) or too_large(frame):
            p.close = INVALID_PAYLOAD if not_text(frame) else BAD_REQUEST
            break
        if not request_ok(decode(frame)):
            p.error_frames += 1  # answered with {"errors": [...]}, the socket stays open
    return p


PREDICT: Final = {TRANSPORT_WS: predict_transport_ws, LEGACY: predict_legacy, PLAIN: predict_plain}
