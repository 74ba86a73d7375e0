"""ClientProtocol: graphql-transport-ws client rules, strings in and frames out."""

from typing import Any

import orjson
import pytest

from livegql.core.errors import ProtocolMisuseError
from livegql.protocol import (
    CLIENT_TRANSITIONS,
    ClientProtocol,
    ClientState,
    Close,
    CloseCode,
    ConnectionAckReceived,
    ErrorReceived,
    MessageType,
    NextReceived,
    PingReceived,
    PongReceived,
    ServerCompleteReceived,
    SubscribePayload,
)

ACK = '{"type":"connection_ack"}'
QUERY = SubscribePayload("subscription { tick }")


def next_(id: str, payload: dict[str, Any]) -> str:
    return orjson.dumps({"id": id, "type": "next", "payload": payload}).decode()


def error(id: str, errors: list[dict[str, Any]]) -> str:
    return orjson.dumps({"id": id, "type": "error", "payload": errors}).decode()


def complete(id: str) -> str:
    return orjson.dumps({"id": id, "type": "complete"}).decode()


def connecting() -> ClientProtocol:
    client = ClientProtocol()
    client.initiate()
    client.data_to_send()
    return client


def connected(*ids: str) -> ClientProtocol:
    client = connecting()
    client.receive_text(ACK)
    for id in ids:
        client.subscribe(id, QUERY)
    client.events_received()
    client.data_to_send()
    return client


def assert_closed(client: ClientProtocol, code: CloseCode, reason: str) -> None:
    assert client.data_to_send() == [Close(code, reason)]
    assert client.state is ClientState.CLOSED
    assert client.acknowledged is False
    assert client.active_ids == frozenset()


# -- connecting ---------------------------------------------------------------------------------------------


def test_starts_awaiting_ack_with_nothing_queued() -> None:
    client = ClientProtocol()
    assert client.state is ClientState.AWAITING_ACK
    assert client.acknowledged is False
    assert client.active_ids == frozenset()
    assert client.data_to_send() == []
    assert client.events_received() == []


def test_initiate_sends_connection_init_without_params() -> None:
    client = ClientProtocol()
    client.initiate()
    assert client.data_to_send() == ['{"type":"connection_init"}']


def test_initiate_sends_connection_params() -> None:
    client = ClientProtocol({"token": "abc"})
    client.initiate()
    assert client.data_to_send() == ['{"type":"connection_init","payload":{"token":"abc"}}']


def test_initiate_twice_is_misuse() -> None:
    client = connecting()
    with pytest.raises(ProtocolMisuseError, match="already"):
        client.initiate()


def test_initiate_after_connection_lost_queues_nothing() -> None:
    client = ClientProtocol()
    client.connection_lost()
    client.initiate()
    assert client.data_to_send() == []


@pytest.mark.parametrize(
    ("data", "payload"),
    [(ACK, None), ('{"type":"connection_ack","payload":{"server":"x"}}', {"server": "x"})],
)
def test_ack_acknowledges(data: str, payload: dict[str, Any] | None) -> None:
    client = connecting()
    client.receive_text(data)
    assert client.acknowledged is True
    assert client.state is ClientState.ACKNOWLEDGED
    assert client.events_received() == [ConnectionAckReceived(payload)]
    assert client.data_to_send() == []


def test_a_repeated_ack_is_ignored() -> None:
    client = connected("1")
    client.receive_text('{"type":"connection_ack","payload":{"again":true}}')
    assert client.events_received() == []
    assert client.data_to_send() == []
    assert client.acknowledged is True
    assert client.active_ids == frozenset({"1"})


@pytest.mark.parametrize(
    ("data", "kind"),
    [(next_("1", {}), "next"), (error("1", [{"message": "m"}]), "error"), (complete("1"), "complete")],
)
def test_operation_messages_before_ack_close_4004(data: str, kind: str) -> None:
    client = connecting()
    client.receive_text(data)
    assert_closed(client, CloseCode.BAD_RESPONSE, f'First message cannot be of type "{kind}"')
    assert client.events_received() == []


def test_ack_timeout_before_ack_closes_4504() -> None:
    client = connecting()
    client.ack_timeout_expired()
    assert_closed(client, CloseCode.CONNECTION_ACKNOWLEDGEMENT_TIMEOUT, "Connection acknowledgement timeout")


def test_ack_timeout_after_ack_is_a_no_op() -> None:
    client = connected("1")
    client.ack_timeout_expired()
    assert client.data_to_send() == []
    assert client.acknowledged is True


# -- operations ---------------------------------------------------------------------------------------------


def test_subscribe_sends_the_exact_frame_and_reserves_the_id() -> None:
    client = connected()
    client.subscribe("1", SubscribePayload("query Q($v: Int) { a(v: $v) }", {"v": 1}, "Q", {"e": 1}))
    client.subscribe("2", SubscribePayload("{ b }"))
    assert client.data_to_send() == [
        '{"id":"1","type":"subscribe","payload":{"query":"query Q($v: Int) { a(v: $v) }",'
        '"variables":{"v":1},"operationName":"Q","extensions":{"e":1}}}',
        '{"id":"2","type":"subscribe","payload":{"query":"{ b }"}}',
    ]
    assert client.active_ids == frozenset({"1", "2"})


def test_subscribe_before_ack_is_misuse() -> None:
    client = connecting()
    with pytest.raises(ProtocolMisuseError, match="AWAITING_ACK"):
        client.subscribe("1", QUERY)
    assert client.data_to_send() == []


def test_subscribe_after_close_is_misuse() -> None:
    client = connected()
    client.close()
    with pytest.raises(ProtocolMisuseError, match="CLOSED"):
        client.subscribe("1", QUERY)


def test_subscribe_with_an_active_id_is_misuse() -> None:
    client = connected("1")
    with pytest.raises(ProtocolMisuseError, match="already active"):
        client.subscribe("1", QUERY)
    assert client.data_to_send() == []


def test_subscribe_with_an_empty_id_is_misuse() -> None:
    client = connected()
    with pytest.raises(ProtocolMisuseError, match="non-empty"):
        client.subscribe("", QUERY)


def test_next_then_server_complete() -> None:
    client = connected("1")
    client.receive_text(next_("1", {"data": {"tick": 1}}))
    client.receive_text(next_("1", {"data": {"tick": 2}}))
    client.receive_text(complete("1"))
    assert client.events_received() == [
        NextReceived("1", {"data": {"tick": 1}}),
        NextReceived("1", {"data": {"tick": 2}}),
        ServerCompleteReceived("1"),
    ]
    assert client.active_ids == frozenset()
    assert client.data_to_send() == []


def test_error_frees_the_id() -> None:
    client = connected("1", "2")
    client.receive_text(error("1", [{"message": "Cannot query field"}]))
    assert client.events_received() == [ErrorReceived("1", [{"message": "Cannot query field"}])]
    assert client.active_ids == frozenset({"2"})
    client.subscribe("1", QUERY)  # free again
    assert client.active_ids == frozenset({"1", "2"})


def test_complete_sends_complete_and_frees_the_id() -> None:
    client = connected("1")
    assert client.complete("1") is True
    assert client.data_to_send() == ['{"id":"1","type":"complete"}']
    assert client.active_ids == frozenset()


def test_complete_for_an_inactive_id_sends_nothing() -> None:
    client = connected("1")
    client.receive_text(complete("1"))
    client.events_received()
    assert client.complete("1") is False
    assert client.complete("never") is False
    assert client.data_to_send() == []


@pytest.mark.parametrize("data", [next_("1", {"data": None}), error("1", [{"message": "m"}]), complete("1")])
def test_server_messages_for_an_id_we_completed_are_ignored(data: str) -> None:
    # The server may have sent these before it saw our Complete.
    client = connected("1")
    client.complete("1")
    client.data_to_send()
    client.receive_text(data)
    assert client.events_received() == []
    assert client.data_to_send() == []
    assert client.state is ClientState.ACKNOWLEDGED


def test_ids_are_json_encoded() -> None:
    client = connected('x"y')
    client.complete('x"y')
    assert client.data_to_send() == ['{"id":"x\\"y","type":"complete"}']


# -- invalid server messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("<html>", "Message is not valid UTF-8 JSON"),
        (b"\xff", "Message is not valid UTF-8 JSON"),
        ('{"type":"data","id":"1"}', 'Unknown message type "data"'),
        ('{"id":"1","type":"next","payload":null}', '"next" payload must be an object, not null'),
        (
            '{"id":"1","type":"error","payload":[]}',
            '"error" payload must be a non-empty array of GraphQL errors',
        ),
        ('{"type":"complete"}', '"complete" id must be a string, not null'),
    ],
)
@pytest.mark.parametrize("setup", [connecting, connected])
def test_invalid_server_message_closes_4004_with_the_reason(setup: Any, data: str | bytes, reason: str) -> None:
    client: ClientProtocol = setup()
    client.receive_text(data)
    assert_closed(client, CloseCode.BAD_RESPONSE, reason)
    assert client.events_received() == []


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ('{"type":"connection_init"}', "connection_init"),
        ('{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}', "subscribe"),
    ],
)
@pytest.mark.parametrize("setup", [connecting, connected])
def test_client_only_types_from_a_server_close_4004(setup: Any, data: str, kind: str) -> None:
    client: ClientProtocol = setup()
    client.receive_text(data)
    assert_closed(client, CloseCode.BAD_RESPONSE, f'Unexpected "{kind}" message from a server')


def test_client_only_types_have_no_transition() -> None:
    for state in ClientState:
        for kind in (MessageType.CONNECTION_INIT, MessageType.SUBSCRIBE):
            assert (state, kind) not in CLIENT_TRANSITIONS
        assert not any(key[0] is ClientState.CLOSED for key in CLIENT_TRANSITIONS)


# -- Ping / Pong --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", [ClientProtocol, connecting, connected])
def test_ping_is_answered_with_a_pong_echoing_its_payload(setup: Any) -> None:
    client: ClientProtocol = setup()
    state = client.state
    client.receive_text('{"type":"ping","payload":{"t":1}}')
    assert client.data_to_send() == ['{"type":"pong","payload":{"t":1}}']
    assert client.events_received() == [PingReceived({"t": 1})]
    client.receive_text('{"type":"ping"}')
    assert client.data_to_send() == ['{"type":"pong"}']
    assert client.state is state


@pytest.mark.parametrize("setup", [connecting, connected])
def test_pong_is_reported(setup: Any) -> None:
    client: ClientProtocol = setup()
    client.receive_text('{"type":"pong"}')
    assert client.events_received() == [PongReceived(None)]
    assert client.data_to_send() == []


def test_ping_before_ack_does_not_count_as_the_first_message() -> None:
    client = connecting()
    client.receive_text('{"type":"ping"}')
    client.receive_text(ACK)
    assert client.events_received() == [PingReceived(None), ConnectionAckReceived(None)]
    assert client.acknowledged is True


@pytest.mark.parametrize("setup", [connecting, connected])
def test_send_ping(setup: Any) -> None:
    client: ClientProtocol = setup()
    client.send_ping()
    client.send_ping({"n": 1})
    assert client.data_to_send() == ['{"type":"ping"}', '{"type":"ping","payload":{"n":1}}']


# -- closing ------------------------------------------------------------------------------------------------


def test_close_defaults_to_normal_closure() -> None:
    client = connected("1")
    client.close()
    assert_closed(client, CloseCode.NORMAL_CLOSURE, "Normal Closure")


def test_close_is_idempotent_and_the_last_output() -> None:
    client = connected("1")
    client.close(CloseCode.INTERNAL_CLIENT_ERROR, "Internal client error")
    client.close()
    client.send_ping()
    client.ack_timeout_expired()
    assert client.complete("1") is False
    assert_closed(client, CloseCode.INTERNAL_CLIENT_ERROR, "Internal client error")


@pytest.mark.parametrize("data", [ACK, next_("1", {}), complete("1"), '{"type":"ping"}', "garbage"])
def test_everything_received_after_close_is_ignored(data: str) -> None:
    client = connected("1")
    client.close()
    client.data_to_send()
    client.receive_text(data)
    assert client.events_received() == []
    assert client.data_to_send() == []


@pytest.mark.parametrize("setup", [ClientProtocol, connecting, connected])
def test_connection_lost_closes_silently(setup: Any) -> None:
    client: ClientProtocol = setup()
    if client.acknowledged:
        client.subscribe("1", QUERY)
    client.data_to_send()
    client.connection_lost()
    assert client.state is ClientState.CLOSED
    assert client.acknowledged is False
    assert client.active_ids == frozenset()
    client.send_ping()
    client.close()
    client.receive_text('{"type":"ping"}')
    assert client.data_to_send() == []
    assert client.events_received() == []
