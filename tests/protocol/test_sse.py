"""graphql-sse framing and the single connection mode's stream machine, synchronously: exact text out."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livegql.core.errors import ProtocolMisuseError
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close
from livegql.protocol.http_stream import OPERATION_ID, HTTPStreamProtocol
from livegql.protocol.messages import SubscribePayload
from livegql.protocol.sse import (
    OperationConflict,
    SSEFraming,
    SSESingleProtocol,
    accepts_event_stream,
    event_position,
    format_event,
)
from livegql.protocol.transport_ws import CompleteReceived, State, SubscribeReceived

PAYLOAD = SubscribePayload("subscription { s }")
WITH_POSITION = '{"data":{"s":1},"extensions":{"position":"17-0"}}'

# A client per the HTML spec, "Interpreting an event stream", minus retry and the leading BOM (never written).
Parsed = tuple[str, str, str | None]  # event type, data, last event id


def parse_stream(text: str) -> list[Parsed]:
    events: list[Parsed] = []
    event_type, data, last_id = "", "", None
    *lines, _unterminated = re.split(r"\r\n|\r|\n", text)
    for line in lines:
        if not line:
            if data:  # an empty data buffer dispatches nothing
                events.append((event_type or "message", data.removesuffix("\n"), last_id))
            event_type, data = "", ""
            continue
        field, colon, value = line.partition(":")
        if not field:
            continue  # a comment
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            event_type = value
        elif field == "data":
            data += value + "\n"
        elif field == "id" and "\x00" not in value:
            last_id = value
    return events


def test_format_event_writes_the_reference_layout() -> None:
    assert format_event("next", '{"data":1}') == 'event: next\ndata: {"data":1}\n\n'
    assert format_event("complete", None) == "event: complete\ndata:\n\n"
    assert format_event("next", "x", id="17-0") == "event: next\nid: 17-0\ndata: x\n\n"


def test_data_with_line_breaks_is_split_over_data_lines() -> None:
    assert format_event("next", "a\nb\r\nc\rd") == "event: next\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
    assert format_event("next", "a\n") == "event: next\ndata: a\ndata: \n\n"
    # Only CR and LF end an SSE line: other Unicode line separators stay inside one data line.
    assert format_event("next", "a\u2028b\x85c") == "event: next\ndata: a\u2028b\x85c\n\n"


@pytest.mark.parametrize("unsafe", ["1\n2", "1\r", "\x00"])
def test_an_id_the_client_could_not_read_back_is_dropped(unsafe: str) -> None:
    assert format_event("next", "x", id=unsafe) == "event: next\ndata: x\n\n"


@given(st.text(), st.one_of(st.none(), st.text()))
def test_a_conformant_client_reads_back_the_data_and_id(data: str, id: str | None) -> None:
    events = parse_stream(":\n\n" + format_event("next", data, id=id) + ":\n\n")
    expected_id = id if id is not None and not re.search(r"[\r\n\x00]", id) else None
    # SSE cannot carry a bare CR: every line break arrives as LF.
    assert events == [("next", re.sub(r"\r\n|\r", "\n", data), expected_id)]


@given(st.lists(st.text(max_size=20), max_size=5))
def test_consecutive_events_stay_apart(datas: list[str]) -> None:
    stream = "".join(format_event("next", data) for data in datas) + format_event("complete", None)
    parsed = [(event_type, data) for event_type, data, _ in parse_stream(stream)]
    expected = [("next", re.sub(r"\r\n|\r", "\n", data)) for data in datas]
    assert parsed == [*expected, ("complete", "")]


def test_event_position_reads_only_a_string_extensions_position() -> None:
    assert event_position(WITH_POSITION) == "17-0"
    assert event_position('{"data":{"s":1}}') is None
    assert event_position("not json, no key") is None  # never parsed: the key is absent
    assert event_position('{"position": broken') is None
    assert event_position('{"data":{"position":"GK"}}') is None  # a field of the result, not ours
    assert event_position('{"extensions":{"position":null}}') is None
    assert event_position('{"extensions":{"position":7}}') is None
    assert event_position('[{"position":"x"}]') is None
    assert event_position('{"extensions":"position","data":{"position":"x"}}') is None


def test_sse_framing_frames() -> None:
    framing = SSEFraming()
    assert framing.content_type == "text/event-stream; charset=utf-8"
    assert framing.opening() == ":\n\n"
    assert framing.next('{"data":1}') == 'event: next\ndata: {"data":1}\n\n'
    assert framing.next(WITH_POSITION) == f"event: next\nid: 17-0\ndata: {WITH_POSITION}\n\n"
    assert framing.error('[{"message":"bad"}]') == 'event: next\ndata: {"errors":[{"message":"bad"}]}\n\n'
    assert framing.complete() == "event: complete\ndata:\n\n"
    assert framing.heartbeat() == ":\n\n"
    assert framing.abort("shutdown") == ""


def test_a_distinct_connection_body_in_order() -> None:
    machine = HTTPStreamProtocol(SSEFraming(), PAYLOAD)
    machine.accept()
    machine.send_next(OPERATION_ID, '{"data":1}')
    machine.send_complete(OPERATION_ID)
    assert machine.data_to_send() == [
        ":\n\n",
        'event: next\ndata: {"data":1}\n\n',
        "event: complete\ndata:\n\n",
        Close(CloseCode.NORMAL_CLOSURE, ""),
    ]


def test_shutdown_ends_a_distinct_stream_without_complete_so_clients_reconnect() -> None:
    machine = HTTPStreamProtocol(SSEFraming(), PAYLOAD)
    machine.accept()
    machine.data_to_send()
    machine.close(CloseCode.GOING_AWAY, "Server shutting down")
    assert machine.data_to_send() == [Close(CloseCode.GOING_AWAY, "Server shutting down")]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("", False),
        ("text/event-stream", True),
        ("application/json, Text/Event-Stream; charset=utf-8", True),
        ("text/event-stream;q=0.5", True),
        ("text/event-stream;q=0", False),
        ("text/event-stream;q=0.000", False),
        ("text/event-stream;q=2", False),  # a malformed q says nothing
        ("*/*", False),
        ("text/*", False),
        ("text/event-streams", False),
    ],
)
def test_accepts_event_stream(accept: str | None, expected: bool) -> None:
    assert accepts_event_stream(accept) is expected


def opened() -> SSESingleProtocol:
    stream = SSESingleProtocol()
    stream.accept()
    stream.data_to_send()
    return stream


def test_single_stream_opens_with_a_comment_and_runs_operations_after() -> None:
    stream = SSESingleProtocol()
    assert stream.state is State.INITIALISING
    with pytest.raises(ProtocolMisuseError):
        stream.start("a", PAYLOAD)
    stream.accept()
    assert stream.data_to_send() == [":\n\n"]
    stream.start("a", PAYLOAD)
    assert stream.events_received() == [SubscribeReceived("a", PAYLOAD)]
    assert stream.active_ids == frozenset({"a"})
    with pytest.raises(ProtocolMisuseError):
        stream.accept()


def test_a_duplicate_operation_id_conflicts() -> None:
    stream = opened()
    stream.start("a", PAYLOAD)
    with pytest.raises(OperationConflict) as raised:
        stream.start("a", PAYLOAD)
    assert raised.value.operation_id == "a"
    assert stream.events_received() == [SubscribeReceived("a", PAYLOAD)]


def test_interleaved_operations_are_named_in_each_event() -> None:
    stream = opened()
    stream.start("a", PAYLOAD)
    stream.start('b"', PAYLOAD)
    assert stream.send_next('b"', '{"data":2}') is True
    assert (
        stream.next_frame("a", WITH_POSITION)
        == f'event: next\nid: 17-0\ndata: {{"id":"a","payload":{WITH_POSITION}}}\n\n'
    )
    assert stream.send_complete("a") is True
    assert stream.send_next("a", '{"data":3}') is False
    assert stream.send_next('b"', '{"data":4}') is True
    assert stream.data_to_send() == [
        'event: next\ndata: {"id":"b\\"","payload":{"data":2}}\n\n',
        'event: complete\ndata: {"id":"a"}\n\n',
        'event: next\ndata: {"id":"b\\"","payload":{"data":4}}\n\n',
    ]


def test_an_error_is_the_operations_last_next_then_its_complete() -> None:
    stream = opened()
    stream.start("a", PAYLOAD)
    assert stream.send_error("a", '[{"message":"bad"}]') is True
    assert stream.data_to_send() == [
        'event: next\ndata: {"id":"a","payload":{"errors":[{"message":"bad"}]}}\n\n',
        'event: complete\ndata: {"id":"a"}\n\n',
    ]
    assert stream.send_error("a", "[]") is False
    assert stream.send_complete("a") is False
    assert stream.active_ids == frozenset()


def test_stop_forgets_the_operation_without_a_complete_event() -> None:
    stream = opened()
    stream.start("a", PAYLOAD)
    stream.events_received()
    assert stream.stop("a") is True
    assert stream.stop("a") is False
    assert stream.stop("never") is False
    assert stream.events_received() == [CompleteReceived("a")]
    assert stream.send_next("a", "{}") is False
    assert stream.next_frame("a", "{}") is None
    assert stream.send_complete("a") is False
    assert stream.data_to_send() == []
    stream.start("a", PAYLOAD)  # the id is free again
    assert stream.send_next("a", "{}") is True


def test_single_stream_heartbeats_only_while_open() -> None:
    stream = SSESingleProtocol()
    stream.send_keepalive()
    assert stream.data_to_send() == []
    stream.accept()
    stream.data_to_send()
    stream.send_keepalive()  # even with no operation: the stream itself must stay up
    assert stream.data_to_send() == [":\n\n"]
    stream.close(CloseCode.GOING_AWAY, "shutdown")
    stream.data_to_send()
    stream.send_keepalive()
    assert stream.data_to_send() == []


def test_close_ends_the_stream_with_only_the_close() -> None:
    stream = opened()
    stream.start("a", PAYLOAD)
    stream.close(CloseCode.TRY_AGAIN_LATER, "slow consumer")
    stream.close(CloseCode.GOING_AWAY, "again")
    assert stream.data_to_send() == [Close(CloseCode.TRY_AGAIN_LATER, "slow consumer")]
    assert stream.active_ids == frozenset()
    assert stream.send_next("a", "{}") is False
    with pytest.raises(ProtocolMisuseError):
        stream.start("b", PAYLOAD)


def test_connection_lost_queues_nothing() -> None:
    stream = opened()
    stream.start("a", PAYLOAD)
    stream.connection_lost()
    assert stream.state is State.CLOSED
    assert stream.send_next("a", "{}") is False
    stream.close(CloseCode.GOING_AWAY, "shutdown")
    assert stream.data_to_send() == []


def test_single_stream_reject_and_timeout() -> None:
    refused = SSESingleProtocol()
    refused.reject("expired")
    refused.accept()
    assert refused.data_to_send() == [Close(CloseCode.FORBIDDEN, "expired")]
    late = SSESingleProtocol()
    late.init_timeout_expired()
    assert late.data_to_send() == [
        Close(CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout")
    ]
    running = opened()
    running.init_timeout_expired()
    assert running.data_to_send() == []
    with pytest.raises(ProtocolMisuseError):
        running.reject()
