"""The plain WebSocket mode's machine, synchronously: strings in, events and frames out."""

from hypothesis import given
from hypothesis import strategies as st

from livegql.core import json
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close
from livegql.protocol.messages import SubscribePayload
from livegql.protocol.plain_ws import PlainServerProtocol
from livegql.protocol.transport_ws import CompleteReceived, ConnectionInitReceived, State, SubscribeReceived


def accepted() -> PlainServerProtocol:
    machine = PlainServerProtocol()
    assert machine.events_received() == [ConnectionInitReceived(None)]
    machine.accept()
    return machine


def test_it_asks_on_connect_at_once_and_holds_the_latest_request_until_accepted() -> None:
    machine = PlainServerProtocol()
    assert machine.state is State.INITIALISING
    assert machine.events_received() == [ConnectionInitReceived(None)]
    machine.receive_text('{"query": "{ a }"}')
    machine.receive_text('{"query": "{ b }"}')
    assert machine.events_received() == []  # nothing runs before the verdict
    machine.accept()
    assert machine.events_received() == [SubscribeReceived("1", SubscribePayload("{ b }"))]


def test_a_new_request_stops_the_running_one() -> None:
    machine = accepted()
    machine.receive_text('{"query": "subscription { s }"}')
    machine.receive_text('{"query": "{ q }", "variables": {"x": 1}, "operationName": null}')
    assert machine.events_received() == [
        SubscribeReceived("1", SubscribePayload("subscription { s }")),
        CompleteReceived("1"),
        SubscribeReceived("2", SubscribePayload("{ q }", variables={"x": 1})),
    ]
    assert machine.send_next("1", '{"data":{}}') is False  # the stopped one sends nothing more
    assert machine.next_frame("1", '{"data":{}}') is None
    assert machine.send_next("2", '{"data":{"q":1}}') is True
    assert machine.data_to_send() == ['{"data":{"q":1}}']


def test_errors_and_completion() -> None:
    machine = accepted()
    machine.receive_text('{"query": "{ q }"}')
    machine.events_received()
    assert machine.send_error("1", '[{"message":"boom"}]') is True
    assert machine.data_to_send() == ['{"errors":[{"message":"boom"}]}']
    assert machine.send_complete("1") is False
    machine.receive_text('{"query": "{ q }"}')
    assert machine.send_complete("2") is True
    assert machine.data_to_send() == []  # plain mode has no completion message


def test_malformed_requests_are_answered_and_ignored() -> None:
    machine = accepted()
    for text in ("nope", "[]", '{"query": 1}', '{"query": "{ a }", "variables": 3}'):
        machine.receive_text(text)
        (frame,) = machine.data_to_send()
        assert isinstance(frame, str)
        assert json.loads(frame)["errors"][0]["message"]
    assert machine.events_received() == []


def test_reject_timeout_and_close() -> None:
    refused = PlainServerProtocol()
    refused.receive_text('{"query": "{ a }"}')
    refused.reject("no token")
    assert refused.data_to_send() == [Close(CloseCode.FORBIDDEN, "no token")]
    refused.receive_text('{"query": "{ a }"}')
    assert refused.events_received() == [ConnectionInitReceived(None)]  # the held request never ran
    late = PlainServerProtocol()
    late.init_timeout_expired()
    assert late.data_to_send() == [
        Close(CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout")
    ]
    machine = accepted()
    machine.close(CloseCode.TRY_AGAIN_LATER, "slow consumer")
    machine.close(CloseCode.TRY_AGAIN_LATER, "slow consumer")
    assert machine.data_to_send() == [Close(CloseCode.TRY_AGAIN_LATER, "slow consumer")]
    machine.accept()  # no-op once closed
    machine.send_keepalive()
    assert machine.data_to_send() == []


@given(st.lists(st.one_of(st.text(max_size=40), st.just('{"query": "{ a }"}')), max_size=20), st.booleans())
def test_any_frames_never_raise_and_nothing_runs_before_accept(frames: list[str], accept: bool) -> None:
    machine = PlainServerProtocol()
    machine.events_received()
    for frame in frames:
        machine.receive_text(frame)
        assert not any(isinstance(event, SubscribeReceived) for event in machine.events_received())
    if accept:
        machine.accept()
        held = machine.events_received()
        assert len(held) <= 1
