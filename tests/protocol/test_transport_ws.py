"""ServerProtocol: graphql-transport-ws server rules, strings in and frames out."""

from typing import Any

import orjson
import pytest

from livegql.core.errors import ProtocolMisuseError
from livegql.protocol import (
    TRANSITIONS,
    Close,
    CloseCode,
    CompleteReceived,
    ConnectionInitReceived,
    MessageType,
    PingReceived,
    PongReceived,
    ServerProtocol,
    State,
    SubscribePayload,
    SubscribeReceived,
)

INIT = '{"type":"connection_init"}'
ACK = '{"type":"connection_ack"}'
PONG = '{"type":"pong"}'


def subscribe(id: str, query: str = "subscription { tick }") -> str:
    return orjson.dumps({"id": id, "type": "subscribe", "payload": {"query": query}}).decode()


def complete(id: str) -> str:
    return orjson.dumps({"id": id, "type": "complete"}).decode()


def initialising() -> ServerProtocol:
    server = ServerProtocol()
    server.receive_text(INIT)
    server.events_received()
    return server


def acknowledged(*ids: str) -> ServerProtocol:
    server = initialising()
    server.accept()
    for id in ids:
        server.receive_text(subscribe(id))
    server.events_received()
    server.data_to_send()
    return server


def assert_closed(server: ServerProtocol, code: CloseCode, reason: str) -> None:
    assert server.data_to_send() == [Close(code, reason)]
    assert server.state is State.CLOSED
    assert server.active_ids == frozenset()


# -- happy path ---------------------------------------------------------------------------------------------


def test_starts_awaiting_init_with_nothing_to_do() -> None:
    server = ServerProtocol()
    assert server.state is State.AWAITING_INIT
    assert server.active_ids == frozenset()
    assert server.events_received() == []
    assert server.data_to_send() == []


def test_init_then_accept_sends_ack_without_payload() -> None:
    server = ServerProtocol()
    server.receive_text(INIT)
    states = [server.state]
    assert server.events_received() == [ConnectionInitReceived(None)]
    assert server.data_to_send() == []  # nothing until the app decides
    server.accept()
    states.append(server.state)
    assert states == [State.INITIALISING, State.ACKNOWLEDGED]
    assert server.data_to_send() == [ACK]


def test_init_payload_is_passed_on_and_ack_payload_is_sent() -> None:
    server = ServerProtocol()
    server.receive_text(b'{"type":"connection_init","payload":{"token":"abc"}}')
    assert server.events_received() == [ConnectionInitReceived({"token": "abc"})]
    server.accept({"user": "ann"})
    assert server.data_to_send() == ['{"type":"connection_ack","payload":{"user":"ann"}}']


def test_events_and_outputs_are_cleared_once_read() -> None:
    server = ServerProtocol()
    server.receive_text(INIT)
    assert server.events_received() == [ConnectionInitReceived(None)]
    assert server.events_received() == []
    server.accept()
    assert server.data_to_send() == [ACK]
    assert server.data_to_send() == []


def test_subscribe_then_next_and_complete_frames() -> None:
    server = acknowledged()
    server.receive_text(
        '{"id":"op-1","type":"subscribe","payload":{"query":"query Q { a }","variables":{"x":1},'
        '"operationName":"Q","extensions":{"e":true}}}'
    )
    assert server.events_received() == [
        SubscribeReceived("op-1", SubscribePayload("query Q { a }", {"x": 1}, "Q", {"e": True}))
    ]
    assert server.active_ids == frozenset({"op-1"})
    assert server.send_next("op-1", '{"data":{"a":1}}') is True
    assert server.send_next("op-1", '{"data":{"a":2}}') is True
    assert server.send_complete("op-1") is True
    assert server.data_to_send() == [
        '{"id":"op-1","type":"next","payload":{"data":{"a":1}}}',
        '{"id":"op-1","type":"next","payload":{"data":{"a":2}}}',
        '{"id":"op-1","type":"complete"}',
    ]
    assert server.active_ids == frozenset()


def test_ids_are_json_encoded_in_frames() -> None:
    server = acknowledged('a"b\\c\u00e9')
    assert server.send_next('a"b\\c\u00e9', "{}") is True
    [frame] = server.data_to_send()
    assert isinstance(frame, str)
    assert orjson.loads(frame) == {"id": 'a"b\\c\u00e9', "type": "next", "payload": {}}


def test_id_json_is_encoded_once_per_subscribe(monkeypatch: pytest.MonkeyPatch) -> None:
    import livegql.protocol.transport_ws as module

    calls: list[Any] = []

    def counting_dumps(value: Any) -> str:
        calls.append(value)
        return orjson.dumps(value).decode()

    monkeypatch.setattr(module, "dumps", counting_dumps)
    server = acknowledged("1")
    for n in range(5):
        server.send_next("1", str(n))
    server.send_complete("1")
    assert calls == ["1"]


def test_several_operations_interleave() -> None:
    server = acknowledged("a", "b")
    assert server.active_ids == frozenset({"a", "b"})
    server.send_next("b", "{}")
    server.send_next("a", "{}")
    assert server.data_to_send() == [
        '{"id":"b","type":"next","payload":{}}',
        '{"id":"a","type":"next","payload":{}}',
    ]


# -- ConnectionInit rules -----------------------------------------------------------------------------------


def test_second_init_while_initialising_closes_4429() -> None:
    server = initialising()
    server.receive_text(INIT)
    assert_closed(server, CloseCode.TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests")
    assert server.events_received() == []


def test_second_init_after_ack_closes_4429() -> None:
    server = acknowledged("1")
    server.receive_text(INIT)
    assert_closed(server, CloseCode.TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests")


def test_reject_closes_4403_forbidden_by_default() -> None:
    server = initialising()
    server.reject()
    assert_closed(server, CloseCode.FORBIDDEN, "Forbidden")


def test_reject_with_a_reason() -> None:
    server = initialising()
    server.reject("Bad token")
    assert_closed(server, CloseCode.FORBIDDEN, "Bad token")


@pytest.mark.parametrize("method", ["accept", "reject"])
def test_accept_or_reject_without_pending_init_is_misuse(method: str) -> None:
    with pytest.raises(ProtocolMisuseError, match="AWAITING_INIT"):
        getattr(ServerProtocol(), method)()
    with pytest.raises(ProtocolMisuseError, match="ACKNOWLEDGED"):
        getattr(acknowledged(), method)()


@pytest.mark.parametrize("method", ["accept", "reject"])
def test_accept_or_reject_after_close_is_a_no_op(method: str) -> None:
    # The app may still be deciding when the socket closes (4429, init timeout, peer gone).
    server = initialising()
    server.receive_text(INIT)
    server.data_to_send()
    getattr(server, method)()
    assert server.state is State.CLOSED
    assert server.data_to_send() == []


def test_init_timeout_while_awaiting_init_closes_4408() -> None:
    server = ServerProtocol()
    server.init_timeout_expired()
    assert_closed(server, CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout")


def test_init_timeout_while_initialising_closes_4408() -> None:
    server = initialising()
    server.init_timeout_expired()
    assert_closed(server, CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout")


def test_init_timeout_after_ack_is_a_no_op() -> None:
    server = acknowledged("1")
    server.init_timeout_expired()
    assert server.state is State.ACKNOWLEDGED
    assert server.data_to_send() == []
    assert server.active_ids == frozenset({"1"})


# -- Subscribe rules ----------------------------------------------------------------------------------------


def test_subscribe_before_init_closes_4401() -> None:
    server = ServerProtocol()
    server.receive_text(subscribe("1"))
    assert_closed(server, CloseCode.UNAUTHORIZED, "Unauthorized")
    assert server.events_received() == []


def test_subscribe_while_initialising_closes_4401() -> None:
    server = initialising()
    server.receive_text(subscribe("1"))
    assert_closed(server, CloseCode.UNAUTHORIZED, "Unauthorized")
    assert server.events_received() == []


def test_subscribe_with_an_active_id_closes_4409() -> None:
    server = ServerProtocol()
    server.receive_text(INIT)
    server.accept()
    server.receive_text(subscribe("dup"))
    # The transport has not looked at the first SubscribeReceived yet: the reservation is already made.
    server.receive_text(subscribe("dup"))
    assert server.events_received() == [
        ConnectionInitReceived(None),
        SubscribeReceived("dup", SubscribePayload("subscription { tick }")),
    ]
    assert server.data_to_send() == [
        ACK,
        Close(CloseCode.SUBSCRIBER_ALREADY_EXISTS, "Subscriber for dup already exists"),
    ]
    assert server.state is State.CLOSED
    assert server.active_ids == frozenset()


def test_id_can_be_reused_after_client_complete() -> None:
    server = acknowledged("1")
    server.receive_text(complete("1"))
    server.receive_text(subscribe("1", "{ again }"))
    assert server.events_received() == [
        CompleteReceived("1"),
        SubscribeReceived("1", SubscribePayload("{ again }")),
    ]
    assert server.active_ids == frozenset({"1"})
    assert server.data_to_send() == []


@pytest.mark.parametrize("finish", ["send_complete", "send_error"])
def test_id_can_be_reused_after_server_finishes_it(finish: str) -> None:
    server = acknowledged("1")
    getattr(server, finish)("1", *(["[]"] if finish == "send_error" else []))
    server.receive_text(subscribe("1"))
    assert server.events_received() == [SubscribeReceived("1", SubscribePayload("subscription { tick }"))]
    assert server.state is State.ACKNOWLEDGED


# -- Complete rules -----------------------------------------------------------------------------------------


def test_client_complete_frees_the_id_and_stops_sends() -> None:
    server = acknowledged("1", "2")
    server.receive_text(complete("1"))
    assert server.events_received() == [CompleteReceived("1")]
    assert server.active_ids == frozenset({"2"})
    assert server.send_next("1", "{}") is False
    assert server.send_error("1", "[]") is False
    assert server.send_complete("1") is False
    assert server.data_to_send() == []


@pytest.mark.parametrize("setup", [ServerProtocol, initialising, acknowledged])
def test_complete_for_an_unknown_id_is_ignored(setup: Any) -> None:
    server: ServerProtocol = setup()
    state = server.state
    server.receive_text(complete("nope"))
    assert server.events_received() == []
    assert server.data_to_send() == []
    assert server.state is state


def test_send_error_sends_the_frame_and_ends_the_id() -> None:
    server = acknowledged("1")
    assert server.send_error("1", '[{"message":"bad"}]') is True
    assert server.data_to_send() == ['{"id":"1","type":"error","payload":[{"message":"bad"}]}']
    assert server.active_ids == frozenset()
    assert server.send_complete("1") is False
    assert server.data_to_send() == []


def test_sends_for_ids_never_subscribed_are_refused() -> None:
    server = acknowledged()
    assert server.send_next("x", "{}") is False
    assert server.send_error("x", "[]") is False
    assert server.send_complete("x") is False
    assert server.data_to_send() == []


# -- invalid messages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("not json", "Message is not valid UTF-8 JSON"),
        (b"\xc3\x28", "Message is not valid UTF-8 JSON"),
        ("[]", "Message must be an object, not array"),
        ('{"type":"start","id":"1"}', 'Unknown message type "start"'),
        ('{"type":"subscribe","id":"","payload":{"query":""}}', '"subscribe" id must not be empty'),
        ('{"type":"subscribe","id":"1","payload":{}}', '"subscribe" query must be a string, not null'),
        (
            '{"type":"connection_init","payload":"x"}',
            '"connection_init" payload must be an object or null, not string',
        ),
    ],
)
@pytest.mark.parametrize("setup", [ServerProtocol, initialising, acknowledged])
def test_invalid_message_closes_4400_with_the_reason(setup: Any, data: str | bytes, reason: str) -> None:
    server: ServerProtocol = setup()
    server.receive_text(data)
    assert_closed(server, CloseCode.BAD_REQUEST, reason)
    assert server.events_received() == []


@pytest.mark.parametrize(
    "data",
    [
        '{"type":"connection_ack"}',
        '{"id":"1","type":"next","payload":{}}',
        '{"id":"1","type":"error","payload":[{"message":"m"}]}',
    ],
)
@pytest.mark.parametrize("setup", [ServerProtocol, initialising, acknowledged])
def test_server_only_types_from_a_client_close_4400(setup: Any, data: str) -> None:
    server: ServerProtocol = setup()
    kind = orjson.loads(data)["type"]
    server.receive_text(data)
    assert_closed(server, CloseCode.BAD_REQUEST, f'Unexpected "{kind}" message from a client')


def test_server_only_types_have_no_transition() -> None:
    for state in State:
        for kind in (MessageType.CONNECTION_ACK, MessageType.NEXT, MessageType.ERROR):
            assert (state, kind) not in TRANSITIONS
        assert not any(key[0] is State.CLOSED for key in TRANSITIONS)


# -- Ping / Pong --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", [ServerProtocol, initialising, acknowledged])
def test_ping_is_answered_with_a_pong_in_every_open_state(setup: Any) -> None:
    server: ServerProtocol = setup()
    state = server.state
    server.receive_text('{"type":"ping"}')
    assert server.data_to_send() == [PONG]
    assert server.events_received() == [PingReceived(None)]
    assert server.state is state


def test_ping_payload_is_reported_and_echoed_in_the_pong() -> None:
    server = acknowledged()
    server.receive_text('{"type":"ping","payload":{"t":1}}')
    assert server.data_to_send() == ['{"type":"pong","payload":{"t":1}}']
    assert server.events_received() == [PingReceived({"t": 1})]


@pytest.mark.parametrize("setup", [ServerProtocol, initialising, acknowledged])
def test_pong_is_reported_in_every_open_state(setup: Any) -> None:
    server: ServerProtocol = setup()
    state = server.state
    server.receive_text('{"type":"pong","payload":{"t":2}}')
    assert server.events_received() == [PongReceived({"t": 2})]
    assert server.data_to_send() == []
    assert server.state is state


@pytest.mark.parametrize("setup", [ServerProtocol, initialising, acknowledged])
def test_send_ping_in_every_open_state(setup: Any) -> None:
    server: ServerProtocol = setup()
    server.send_ping()
    server.send_ping({"n": 1})
    assert server.data_to_send() == ['{"type":"ping"}', '{"type":"ping","payload":{"n":1}}']


# -- closing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [(CloseCode.INTERNAL_SERVER_ERROR, "Internal server error"), (CloseCode.GOING_AWAY, "Bye")],
)
def test_local_close_is_queued_and_ends_the_machine(code: CloseCode, reason: str) -> None:
    server = acknowledged("1")
    server.close(code, reason)
    assert_closed(server, code, reason)


def test_close_is_idempotent_and_the_first_one_wins() -> None:
    server = acknowledged()
    server.close(CloseCode.GOING_AWAY, "Bye")
    server.close(CloseCode.INTERNAL_SERVER_ERROR, "Oops")
    server.init_timeout_expired()
    assert_closed(server, CloseCode.GOING_AWAY, "Bye")


def test_close_is_the_last_output_ever() -> None:
    server = acknowledged("1")
    server.send_next("1", "{}")
    server.close(CloseCode.GOING_AWAY, "Bye")
    assert server.send_next("1", "{}") is False
    assert server.send_error("1", "[]") is False
    assert server.send_complete("1") is False
    server.send_ping()
    server.close(CloseCode.NORMAL_CLOSURE, "again")
    assert server.data_to_send() == [
        '{"id":"1","type":"next","payload":{}}',
        Close(CloseCode.GOING_AWAY, "Bye"),
    ]


@pytest.mark.parametrize(
    "data",
    [INIT, subscribe("1"), complete("1"), '{"type":"ping"}', '{"type":"pong"}', "garbage", '{"type":"next"}'],
)
def test_everything_received_after_close_is_ignored(data: str) -> None:
    server = acknowledged("1")
    server.close(CloseCode.GOING_AWAY, "Bye")
    server.data_to_send()
    server.receive_text(data)
    assert server.events_received() == []
    assert server.data_to_send() == []
    assert server.state is State.CLOSED


@pytest.mark.parametrize("setup", [ServerProtocol, initialising, acknowledged])
def test_connection_lost_closes_silently(setup: Any) -> None:
    server: ServerProtocol = setup()
    if server.state is State.ACKNOWLEDGED:
        server.receive_text(subscribe("1"))
    server.events_received()
    server.connection_lost()
    assert server.state is State.CLOSED
    assert server.active_ids == frozenset()
    assert server.data_to_send() == []
    server.receive_text('{"type":"ping"}')
    server.send_ping()
    server.init_timeout_expired()
    server.close(CloseCode.GOING_AWAY, "Bye")
    assert server.data_to_send() == []
    assert server.events_received() == []


def test_long_close_reasons_are_truncated_to_123_utf8_bytes() -> None:
    server = acknowledged("x" * 200)
    server.receive_text(subscribe("x" * 200))
    [close] = server.data_to_send()
    assert isinstance(close, Close)
    assert close.code is CloseCode.SUBSCRIBER_ALREADY_EXISTS
    assert close.reason == ("Subscriber for " + "x" * 200)[:123]
    assert len(close.reason.encode()) == 123


def test_close_reason_truncation_never_splits_a_character() -> None:
    reason = "é" * 100  # 200 bytes; 123 would cut the 62nd character in half
    close = Close(CloseCode.GOING_AWAY, reason)
    assert close.reason == "é" * 61
    assert len(close.reason.encode()) == 122
    assert Close(CloseCode.GOING_AWAY, "€" * 41).reason == "€" * 41  # exactly 123 bytes stays
    assert Close(CloseCode.GOING_AWAY, "").reason == ""
