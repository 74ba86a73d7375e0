"""parse_message, encode_message and the hot-path frame helpers."""

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livegql.protocol import (
    Complete,
    ConnectionAck,
    ConnectionInit,
    Error,
    InvalidMessage,
    Message,
    MessageType,
    Next,
    Ping,
    Pong,
    Subscribe,
    SubscribePayload,
    complete_frame,
    encode_message,
    error_frame,
    next_frame,
    parse_message,
)


def frame(**fields: Any) -> str:
    return orjson.dumps(fields).decode()


# -- valid messages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kind"),
    [
        (ConnectionInit, "connection_init"),
        (ConnectionAck, "connection_ack"),
        (Ping, "ping"),
        (Pong, "pong"),
    ],
)
@pytest.mark.parametrize("extra", [{}, {"payload": None}, {"payload": {}}, {"payload": {"token": "t"}}])
def test_payload_only_messages_accept_absent_null_or_object_payload(
    cls: type[ConnectionInit | ConnectionAck | Ping | Pong], kind: str, extra: dict[str, Any]
) -> None:
    message = parse_message(frame(type=kind, **extra))
    assert message == cls(extra.get("payload"))
    assert message.type is MessageType(kind)


def test_payload_only_messages_ignore_an_id() -> None:
    assert parse_message(frame(type="ping", id=5)) == Ping(None)


def test_subscribe_with_only_a_query() -> None:
    message = parse_message(frame(id="1", type="subscribe", payload={"query": "{ a }"}))
    assert message == Subscribe("1", SubscribePayload("{ a }", None, None, None))


def test_subscribe_with_every_field() -> None:
    payload = {
        "query": "query Q($x: Int) { a(x: $x) }",
        "variables": {"x": 1},
        "operationName": "Q",
        "extensions": {"persistedQuery": {"version": 1}},
    }
    message = parse_message(frame(id="op", type="subscribe", payload=payload))
    assert message == Subscribe(
        "op",
        SubscribePayload(
            query="query Q($x: Int) { a(x: $x) }",
            variables={"x": 1},
            operation_name="Q",
            extensions={"persistedQuery": {"version": 1}},
        ),
    )


def test_subscribe_accepts_null_optionals_and_an_empty_query() -> None:
    payload = {"query": "", "variables": None, "operationName": None, "extensions": None}
    message = parse_message(frame(id="1", type="subscribe", payload=payload))
    assert message == Subscribe("1", SubscribePayload(""))


def test_next_error_complete() -> None:
    assert parse_message(frame(id="1", type="next", payload={"data": {"a": 1}})) == Next("1", {"data": {"a": 1}})
    errors = [{"message": "boom", "path": ["a"]}]
    assert parse_message(frame(id="1", type="error", payload=errors)) == Error("1", errors)
    assert parse_message(frame(id="1", type="complete")) == Complete("1")


def test_bytes_are_parsed_like_text() -> None:
    assert parse_message(b'{"type":"ping"}') == Ping(None)
    assert parse_message('{"type":"ping","payload":{"\u00e9":"\u2603"}}'.encode()) == Ping({"é": "☃"})


def test_unknown_fields_are_ignored() -> None:
    assert parse_message(frame(type="complete", id="1", extra=[1])) == Complete("1")


# -- invalid messages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("", "Message is not valid UTF-8 JSON"),
        ("{", "Message is not valid UTF-8 JSON"),
        (b"\xff\xfe", "Message is not valid UTF-8 JSON"),
        ('{"type":"ping","payload":{"x":"\ud800"}}', "Message is not valid UTF-8 JSON"),
        ("NaN", "Message is not valid UTF-8 JSON"),
        ("[]", "Message must be an object, not array"),
        ('"ping"', "Message must be an object, not string"),
        ("null", "Message must be an object, not null"),
        ("1.5", "Message must be an object, not number"),
        ("true", "Message must be an object, not boolean"),
        ("{}", "Message is missing the 'type' property"),
        ('{"type":null}', "Message is missing the 'type' property"),
        ('{"type":""}', "Message is missing the 'type' property"),
        ('{"type":1}', "Message 'type' must be a string, not number"),
        ('{"type":{}}', "Message 'type' must be a string, not object"),
        ('{"type":"start"}', 'Unknown message type "start"'),
        ('{"type":"PING"}', 'Unknown message type "PING"'),
    ],
)
def test_malformed_frames(data: str | bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage) as info:
        parse_message(data)
    assert info.value.reason == reason
    assert str(info.value) == reason


def test_unknown_type_reason_is_short_even_for_a_huge_type() -> None:
    with pytest.raises(InvalidMessage) as info:
        parse_message(frame(type="x" * 10_000))
    assert info.value.reason == 'Unknown message type "' + "x" * 32 + '..."'


@pytest.mark.parametrize("kind", ["connection_init", "connection_ack", "ping", "pong"])
@pytest.mark.parametrize(("payload", "shown"), [([], "array"), ("x", "string"), (0, "number"), (False, "boolean")])
def test_payload_only_messages_reject_a_non_object_payload(kind: str, payload: Any, shown: str) -> None:
    with pytest.raises(InvalidMessage) as info:
        parse_message(frame(type=kind, payload=payload))
    assert info.value.reason == f'"{kind}" payload must be an object or null, not {shown}'


@pytest.mark.parametrize("kind", ["subscribe", "next", "error", "complete"])
@pytest.mark.parametrize(
    ("id_field", "reason"),
    [
        ({}, '"{kind}" id must be a string, not null'),
        ({"id": None}, '"{kind}" id must be a string, not null'),
        ({"id": 1}, '"{kind}" id must be a string, not number'),
        ({"id": ["1"]}, '"{kind}" id must be a string, not array'),
        ({"id": ""}, '"{kind}" id must not be empty'),
    ],
)
def test_ids_must_be_non_empty_strings(kind: str, id_field: dict[str, Any], reason: str) -> None:
    valid_payloads: dict[str, Any] = {
        "subscribe": {"query": "{ a }"},
        "next": {"data": None},
        "error": [{"message": "m"}],
        "complete": None,
    }
    with pytest.raises(InvalidMessage) as info:
        parse_message(frame(type=kind, payload=valid_payloads[kind], **id_field))
    assert info.value.reason == reason.format(kind=kind)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (None, '"subscribe" payload must be an object, not null'),
        ([], '"subscribe" payload must be an object, not array'),
        ({}, '"subscribe" query must be a string, not null'),
        ({"query": 1}, '"subscribe" query must be a string, not number'),
        (
            {"query": "q", "operationName": 1},
            '"subscribe" operationName must be a string or null, not number',
        ),
        ({"query": "q", "variables": []}, '"subscribe" variables must be an object or null, not array'),
        ({"query": "q", "variables": "x"}, '"subscribe" variables must be an object or null, not string'),
        ({"query": "q", "extensions": 1}, '"subscribe" extensions must be an object or null, not number'),
    ],
)
def test_subscribe_payload_rules(payload: Any, reason: str) -> None:
    with pytest.raises(InvalidMessage) as info:
        parse_message(frame(id="1", type="subscribe", payload=payload))
    assert info.value.reason == reason


@pytest.mark.parametrize(("payload", "shown"), [(None, "null"), ([], "array"), ("x", "string")])
def test_next_payload_must_be_an_object(payload: Any, shown: str) -> None:
    with pytest.raises(InvalidMessage) as info:
        parse_message(frame(id="1", type="next", payload=payload))
    assert info.value.reason == f'"next" payload must be an object, not {shown}'


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"message": "m"}, [], [{"path": []}], [{"message": "m"}, "m"], [["message"]]],
)
def test_error_payload_must_be_a_non_empty_array_of_errors(payload: Any) -> None:
    with pytest.raises(InvalidMessage) as info:
        parse_message(frame(id="1", type="error", payload=payload))
    assert info.value.reason == '"error" payload must be a non-empty array of GraphQL errors'


# -- encoding -----------------------------------------------------------------------------------------------

ALL_MESSAGES: list[Message] = [
    ConnectionInit(),
    ConnectionInit({"token": "t"}),
    ConnectionAck(),
    ConnectionAck({"server": "livegql"}),
    Ping(),
    Ping({"at": 1}),
    Pong(),
    Pong({}),
    Subscribe("1", SubscribePayload("{ a }")),
    Subscribe("2", SubscribePayload("query Q { a }", {"x": [1]}, "Q", {"e": True})),
    Next("1", {"data": {"a": "é"}}),
    Error("1", [{"message": "bad", "locations": [{"line": 1, "column": 2}]}]),
    Complete("1"),
]


@pytest.mark.parametrize("message", ALL_MESSAGES)
def test_encode_round_trips(message: Message) -> None:
    assert parse_message(encode_message(message)) == message


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (ConnectionInit(), '{"type":"connection_init"}'),
        (ConnectionAck({"a": 1}), '{"type":"connection_ack","payload":{"a":1}}'),
        (Pong(), '{"type":"pong"}'),
        (
            Subscribe("1", SubscribePayload("{ a }")),
            '{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}',
        ),
        (
            Subscribe("1", SubscribePayload("q", {"v": 1}, "Q", {"e": 2})),
            '{"id":"1","type":"subscribe","payload":'
            '{"query":"q","variables":{"v":1},"operationName":"Q","extensions":{"e":2}}}',
        ),
        (Next("a", {"data": None}), '{"id":"a","type":"next","payload":{"data":null}}'),
        (Error("a", [{"message": "m"}]), '{"id":"a","type":"error","payload":[{"message":"m"}]}'),
        (Complete("a"), '{"id":"a","type":"complete"}'),
    ],
)
def test_encode_exact_frames(message: Message, expected: str) -> None:
    assert encode_message(message) == expected


@pytest.mark.parametrize("id", ["1", 'quote"and\\slash', "ünï☃", "\n\t"])
def test_frame_helpers_equal_encode_message(id: str) -> None:
    payload = {"data": {"x": [1, 2.5, None, "s"]}, "errors": [{"message": "m"}]}
    errors = [{"message": "m", "path": ["x", 0]}]
    id_json = orjson.dumps(id).decode()
    assert next_frame(id_json, orjson.dumps(payload).decode()) == encode_message(Next(id, payload))
    assert error_frame(id_json, orjson.dumps(errors).decode()) == encode_message(Error(id, errors))
    assert complete_frame(id_json) == encode_message(Complete(id))
    assert orjson.loads(next_frame(id_json, orjson.dumps(payload).decode())) == {
        "id": id,
        "type": "next",
        "payload": payload,
    }


def test_next_frame_does_not_reserialise_the_payload() -> None:
    # Whatever bytes the engine encoded go out untouched (key order, spacing included).
    assert (
        next_frame('"7"', '{"data": {"b":1, "a":2}}') == '{"id":"7","type":"next","payload":{"data": {"b":1, "a":2}}}'
    )


# -- fuzzing ------------------------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
message_like = st.fixed_dictionaries(
    {"type": st.sampled_from([kind.value for kind in MessageType]) | st.text(max_size=5)},
    optional={
        "id": st.text(max_size=3) | json_values,
        "payload": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "query": st.text() | json_values,
                "variables": json_values,
                "operationName": json_values,
                "extensions": json_values,
            },
        )
        | st.lists(st.fixed_dictionaries({}, optional={"message": json_values}), max_size=3),
    },
)


def parse_or_reason(data: str | bytes) -> Message | str:
    try:
        return parse_message(data)
    except InvalidMessage as error:  # anything else escapes and fails the test
        return error.reason


def check_parse(data: str | bytes) -> None:
    outcome = parse_or_reason(data)
    if isinstance(outcome, str):
        assert outcome
    else:
        assert parse_message(encode_message(outcome)) == outcome


@given(st.text() | st.binary())
def test_parse_arbitrary_text_or_bytes_only_raises_invalid_message(data: str | bytes) -> None:
    check_parse(data)


@given(json_values)
def test_parse_arbitrary_json_only_raises_invalid_message(value: Any) -> None:
    check_parse(orjson.dumps(value))


@given(message_like)
def test_parse_message_shaped_json_only_raises_invalid_message(value: dict[str, Any]) -> None:
    check_parse(orjson.dumps(value).decode())
