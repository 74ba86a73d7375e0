"""LegacyServerProtocol: subscriptions-transport-ws ("graphql-ws") server rules, strings in and frames out."""

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livegql.core.errors import ProtocolMisuseError
from livegql.protocol import (
    GRAPHQL_WS_LEGACY_PROTOCOL,
    LEGACY_TRANSITIONS,
    Close,
    CloseCode,
    CompleteReceived,
    ConnectionInitReceived,
    LegacyMessageType,
    LegacyServerProtocol,
    State,
    SubscribePayload,
    SubscribeReceived,
)

INIT = '{"type":"connection_init"}'
ACK = '{"type":"connection_ack"}'
KA = '{"type":"ka"}'
QUERY = "subscription { tick }"


def start(id: str, query: str = QUERY, **extra: Any) -> str:
    return orjson.dumps({"id": id, "type": "start", "payload": {"query": query, **extra}}).decode()


def stop(id: str) -> str:
    return orjson.dumps({"id": id, "type": "stop"}).decode()


def connection_error(message: str) -> str:
    return orjson.dumps({"type": "connection_error", "payload": {"message": message}}).decode()


def error(id: str, message: str) -> str:
    return orjson.dumps({"id": id, "type": "error", "payload": [{"message": message}]}).decode()


def subscribed(id: str, query: str = QUERY) -> SubscribeReceived:
    return SubscribeReceived(id, SubscribePayload(query))


def initialising() -> LegacyServerProtocol:
    server = LegacyServerProtocol()
    server.receive_text(INIT)
    server.events_received()
    return server


def acknowledged(*ids: str) -> LegacyServerProtocol:
    server = initialising()
    server.accept()
    for id in ids:
        server.receive_text(start(id))
    server.events_received()
    server.data_to_send()
    return server


def assert_closed(server: LegacyServerProtocol, outputs: list[str | Close]) -> None:
    assert server.data_to_send() == outputs
    assert server.state is State.CLOSED
    assert server.active_ids == frozenset()
    assert server.pending_ids == frozenset()


# -- happy path ---------------------------------------------------------------------------------------------


def test_subprotocol_name() -> None:
    assert GRAPHQL_WS_LEGACY_PROTOCOL == "graphql-ws"


def test_starts_awaiting_init_with_nothing_to_do() -> None:
    server = LegacyServerProtocol()
    assert server.state is State.AWAITING_INIT
    assert (server.events_received(), server.data_to_send()) == ([], [])


def test_init_then_accept_sends_ack() -> None:
    server = LegacyServerProtocol()
    server.receive_text('{"type":"connection_init","payload":{"token":"t"}}')
    states = [server.state]
    assert server.events_received() == [ConnectionInitReceived({"token": "t"})]
    assert server.data_to_send() == []
    server.accept()
    states.append(server.state)
    assert states == [State.INITIALISING, State.ACKNOWLEDGED]
    assert server.data_to_send() == [ACK]


def test_accept_with_payload_and_first_keepalive() -> None:
    server = initialising()
    server.accept({"v": 1}, keepalive=True)
    assert server.data_to_send() == ['{"type":"connection_ack","payload":{"v":1}}', KA]


def test_start_data_complete_frames() -> None:
    server = acknowledged()
    server.receive_text(start("1", variables={"a": 1}, operationName="Op", extensions={"e": 2}))
    payload = SubscribePayload(QUERY, {"a": 1}, "Op", {"e": 2})
    assert server.events_received() == [SubscribeReceived("1", payload)]
    assert server.active_ids == {"1"}
    assert server.send_next("1", '{"data":{"tick":1}}')
    assert server.next_frame("1", '{"data":{"tick":2}}') == '{"id":"1","type":"data","payload":{"data":{"tick":2}}}'
    assert server.send_complete("1")
    assert server.data_to_send() == [
        '{"id":"1","type":"data","payload":{"data":{"tick":1}}}',
        '{"id":"1","type":"complete"}',
    ]
    assert server.active_ids == frozenset()


def test_frames_are_valid_json_with_escaped_ids() -> None:
    server = acknowledged('a"\\b')
    server.send_next('a"\\b', "{}")
    assert [orjson.loads(frame) for frame in server.data_to_send() if isinstance(frame, str)] == [
        {"id": 'a"\\b', "type": "data", "payload": {}}
    ]


def test_send_error_sends_the_errors_array_and_ends_the_id() -> None:
    # The reference client's formatErrors passes an array through to the observer's error as is.
    server = acknowledged("1")
    assert server.send_error("1", '[{"message":"bad"}]')
    assert server.data_to_send() == ['{"id":"1","type":"error","payload":[{"message":"bad"}]}']
    assert server.active_ids == frozenset()


def test_sends_for_inactive_ids_are_refused() -> None:
    server = acknowledged()
    assert not server.send_next("x", "{}")
    assert server.next_frame("x", "{}") is None
    assert not server.send_error("x", "[]")
    assert not server.send_complete("x")
    assert server.data_to_send() == []


def test_keepalive_only_once_acknowledged() -> None:
    server = LegacyServerProtocol()
    server.send_keepalive()
    server.receive_text(INIT)
    server.send_keepalive()
    assert server.data_to_send() == []
    server.accept()
    server.data_to_send()
    server.send_keepalive()
    assert server.data_to_send() == [KA]
    server.close(CloseCode.GOING_AWAY, "bye")
    server.data_to_send()
    server.send_keepalive()
    assert server.data_to_send() == []


# -- start before the connection is accepted -----------------------------------------------------------------


def test_start_before_init_is_refused_with_error_and_no_event() -> None:
    server = LegacyServerProtocol()
    server.receive_text(start("1"))
    assert server.events_received() == []
    assert server.data_to_send() == [error("1", "Operation sent before connection_init")]
    assert server.state is State.AWAITING_INIT
    server.receive_text(INIT)  # the socket stays usable
    server.accept()
    assert server.events_received() == [ConnectionInitReceived(None)]
    assert server.active_ids == frozenset()


def test_starts_while_initialising_are_held_until_accept_then_released_in_order() -> None:
    server = initialising()
    server.receive_text(start("2"))
    server.receive_text(start("1"))
    assert server.events_received() == []
    assert server.pending_ids == {"1", "2"}
    server.accept()
    assert server.data_to_send() == [ACK]
    assert server.events_received() == [subscribed("2"), subscribed("1")]
    assert server.active_ids == {"1", "2"}
    assert server.pending_ids == frozenset()


def test_held_starts_are_dropped_on_reject() -> None:
    server = initialising()
    server.receive_text(start("1"))
    server.reject()
    assert server.events_received() == []
    assert_closed(server, [connection_error("Forbidden"), Close(CloseCode.FORBIDDEN, "Forbidden")])


def test_stop_of_a_held_start_drops_it() -> None:
    server = initialising()
    server.receive_text(start("1"))
    server.receive_text(stop("1"))
    server.accept()
    assert server.events_received() == []
    assert server.active_ids == frozenset()


def test_restart_of_a_held_id_keeps_the_latest() -> None:
    server = initialising()
    server.receive_text(start("1", "{ a }"))
    server.receive_text(start("2"))
    server.receive_text(start("1", "{ b }"))
    server.accept()
    assert server.events_received() == [subscribed("2"), subscribed("1", "{ b }")]


def test_held_starts_are_bounded() -> None:
    server = LegacyServerProtocol(max_pending_starts=1)
    server.receive_text(INIT)
    server.receive_text(start("1"))
    server.receive_text(start("1"))  # replacing a held id does not count twice
    server.receive_text(start("2"))
    assert server.data_to_send() == [error("2", "Too many operations before connection_ack")]
    assert server.pending_ids == {"1"}


# -- connection_init rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", [initialising, acknowledged])
def test_second_init_sends_connection_error_and_closes_4429(setup: Any) -> None:
    server = setup()
    server.receive_text(INIT)
    reason = "Too many initialisation requests"
    assert_closed(server, [connection_error(reason), Close(CloseCode.TOO_MANY_INITIALISATION_REQUESTS, reason)])
    assert server.events_received() == []


def test_reject_with_a_reason() -> None:
    server = initialising()
    server.reject("Bad token")
    assert_closed(server, [connection_error("Bad token"), Close(CloseCode.FORBIDDEN, "Bad token")])


@pytest.mark.parametrize("method", ["accept", "reject"])
@pytest.mark.parametrize("setup", [LegacyServerProtocol, acknowledged])
def test_accept_or_reject_without_pending_init_is_misuse(method: str, setup: Any) -> None:
    with pytest.raises(ProtocolMisuseError):
        getattr(setup(), method)()


@pytest.mark.parametrize("method", ["accept", "reject"])
def test_accept_or_reject_after_close_is_a_no_op(method: str) -> None:
    server = initialising()
    server.connection_lost()
    getattr(server, method)()
    assert server.data_to_send() == []
    assert server.state is State.CLOSED


@pytest.mark.parametrize("setup", [LegacyServerProtocol, initialising])
def test_init_timeout_before_ack_closes_4408(setup: Any) -> None:
    server = setup()
    server.init_timeout_expired()
    reason = "Connection initialisation timeout"
    assert_closed(server, [connection_error(reason), Close(CloseCode.CONNECTION_INITIALISATION_TIMEOUT, reason)])


def test_init_timeout_after_ack_is_a_no_op() -> None:
    server = acknowledged("1")
    server.init_timeout_expired()
    assert server.data_to_send() == []
    assert server.active_ids == {"1"}


# -- operations -----------------------------------------------------------------------------------------------


def test_start_with_a_running_id_completes_the_old_one_first() -> None:
    server = acknowledged("1")
    server.receive_text(start("1", "{ b }"))
    assert server.events_received() == [CompleteReceived("1"), subscribed("1", "{ b }")]
    assert server.active_ids == {"1"}
    assert server.data_to_send() == []


def test_stop_ends_the_operation() -> None:
    server = acknowledged("1", "2")
    server.receive_text(stop("1"))
    assert server.events_received() == [CompleteReceived("1")]
    assert server.active_ids == {"2"}
    assert not server.send_next("1", "{}")


@pytest.mark.parametrize("setup", [LegacyServerProtocol, initialising, acknowledged])
def test_stop_of_an_unknown_id_is_ignored(setup: Any) -> None:
    server = setup()
    server.receive_text(stop("9"))
    assert (server.events_received(), server.data_to_send()) == ([], [])


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (None, '"start" payload must be an object, not null'),
        ({"query": 1}, '"start" query must be a string, not number'),
        ({"query": {}}, '"start" query must be a string, not object'),
        ({"query": "{ a }", "operationName": True}, '"start" operationName must be a string or null, not boolean'),
        ({"query": "{ a }", "variables": []}, '"start" variables must be an object or null, not array'),
        ({"query": "{ a }", "extensions": "x"}, '"start" extensions must be an object or null, not string'),
    ],
)
def test_invalid_start_payload_gets_an_error_for_its_id(payload: Any, reason: str) -> None:
    server = acknowledged()
    server.receive_text(orjson.dumps({"id": "7", "type": "start", "payload": payload}))
    assert server.data_to_send() == [error("7", reason)]
    assert server.events_received() == []
    assert server.state is State.ACKNOWLEDGED


# -- invalid frames: connection_error, the socket stays open -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("{", "Message is not valid UTF-8 JSON"),
        (b"\xff", "Message is not valid UTF-8 JSON"),
        ("[]", "Message must be an object, not array"),
        ("{}", "Message is missing the 'type' property"),
        ('{"type":""}', "Message is missing the 'type' property"),
        ('{"type":1.5}', "Message 'type' must be a string, not number"),
        ('{"type":"subscribe"}', 'Invalid message type "subscribe"'),
        ('{"type":"' + "x" * 40 + '"}', 'Invalid message type "' + "x" * 32 + '..."'),
        ('{"type":"start","payload":{"query":"{ a }"}}', '"start" id must be a string, not null'),
        ('{"type":"stop","id":1}', '"stop" id must be a string, not number'),
        ('{"type":"stop","id":""}', '"stop" id must not be empty'),
        ('{"type":"connection_init","payload":[]}', '"connection_init" payload must be an object or null, not array'),
        ('{"type":"data","id":"1"}', 'Unexpected "data" message from a client'),
        ('{"type":"ka"}', 'Unexpected "ka" message from a client'),
    ],
)
@pytest.mark.parametrize("setup", [LegacyServerProtocol, initialising, acknowledged])
def test_invalid_frames_get_connection_error_and_change_nothing(setup: Any, data: str | bytes, reason: str) -> None:
    server = setup()
    state = server.state
    for _ in range(3):  # repeated garbage: one answer each, never a close or a crash
        server.receive_text(data)
    assert server.data_to_send() == [connection_error(reason)] * 3
    assert server.events_received() == []
    assert server.state is state


@pytest.mark.parametrize("kind", [kind for kind in LegacyMessageType if kind.value in ("ka", "data", "error")])
def test_server_only_types_have_no_transition(kind: LegacyMessageType) -> None:
    assert not any(key[1] is kind for key in LEGACY_TRANSITIONS)


# -- closing ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", [LegacyServerProtocol, initialising, acknowledged])
def test_connection_terminate_closes_normally(setup: Any) -> None:
    server = setup()
    server.receive_text('{"type":"connection_terminate"}')
    assert_closed(server, [Close(CloseCode.NORMAL_CLOSURE, "")])


def test_local_close_is_idempotent_and_the_first_wins() -> None:
    server = acknowledged("1")
    server.close(CloseCode.GOING_AWAY, "shutdown")
    server.close(CloseCode.INTERNAL_SERVER_ERROR, "later")
    assert_closed(server, [Close(CloseCode.GOING_AWAY, "shutdown")])


@pytest.mark.parametrize("finish", ["close", "connection_lost"])
def test_everything_after_close_is_ignored(finish: str) -> None:
    server = acknowledged("1")
    if finish == "close":
        server.close(CloseCode.GOING_AWAY, "bye")
    else:
        server.connection_lost()
    server.data_to_send()
    for data in (INIT, start("2"), stop("1"), "{", '{"type":"connection_terminate"}'):
        server.receive_text(data)
    server.init_timeout_expired()
    server.send_keepalive()
    assert not server.send_next("1", "{}")
    assert not server.send_complete("1")
    assert (server.events_received(), server.data_to_send()) == ([], [])


# -- fuzz -------------------------------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_ids = st.sampled_from(["1", "2", "", 1, None])
_messages = st.fixed_dictionaries(
    {"type": st.sampled_from([*LegacyMessageType, "subscribe", 3])},
    optional={"id": _ids, "payload": _json | st.fixed_dictionaries({"query": st.text(max_size=5)})},
)
_frames = (
    st.text() | st.binary(max_size=16) | _messages.map(lambda m: orjson.dumps(m).decode()) | _json.map(orjson.dumps)
)


@given(st.lists(_frames, max_size=20), st.integers(min_value=0, max_value=20))
def test_fuzz_never_raises_and_nothing_runs_before_accept(frames: list[str | bytes], accept_at: int) -> None:
    server = LegacyServerProtocol(max_pending_starts=2)
    accepted = False
    for index, frame in enumerate(frames):
        if index == accept_at and server.state is State.INITIALISING:
            server.accept()
            accepted = True
        server.receive_text(frame)
        events = server.events_received()
        if not accepted:
            assert not any(isinstance(event, SubscribeReceived | CompleteReceived) for event in events)
        outputs = server.data_to_send()
        assert not any(isinstance(output, Close) for output in outputs[:-1])  # a Close is always last
        if server.state is State.CLOSED:
            assert server.active_ids == frozenset()
