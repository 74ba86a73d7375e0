"""Multipart framing (Apollo's subscriptions; incremental delivery) and Accept detection, synchronously: exact
body text out."""

import pytest

from livegql.core import json
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close
from livegql.protocol.http_stream import OPERATION_ID, HTTPStreamProtocol
from livegql.protocol.incremental import IncrementalSpec
from livegql.protocol.messages import SubscribePayload
from livegql.protocol.multipart import (
    IncrementalMultipartFraming,
    MultipartFraming,
    accepts_multipart_subscription,
    incremental_multipart_spec,
)

DELIMITER = "\r\n--graphql"
HEAD = "\r\ncontent-type: application/json\r\n\r\n"
PART = DELIMITER + HEAD  # how a part looks in the whole body: the delimiter before it, then its headers
END = "\r\n--graphql--\r\n"
PAYLOAD = SubscribePayload("subscription { s }")


def test_framing_frames() -> None:
    framing = MultipartFraming()
    assert framing.content_type == 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0'
    # Each frame ends with the delimiter that closes its part: a client hands a part over only once the
    # delimiter after it arrives, so an event must not wait for the next one to be seen.
    assert framing.opening() == DELIMITER + HEAD + "{}" + DELIMITER
    assert framing.heartbeat() == HEAD + "{}" + DELIMITER
    assert framing.next('{"data":{"s":1}}') == HEAD + '{"payload":{"data":{"s":1}}}' + DELIMITER
    assert framing.error('[{"message":"bad"}]') == HEAD + '{"payload":{"errors":[{"message":"bad"}]}}' + DELIMITER
    assert framing.complete() == "--\r\n"


def test_abort_is_a_fatal_error_part_then_the_end() -> None:
    framing = MultipartFraming()
    aborted = framing.abort('slow "consumer"')
    assert aborted.startswith(HEAD)
    assert aborted.endswith(END)  # after an earlier frame's delimiter: the close-delimiter
    part = aborted.removeprefix(HEAD).removesuffix(END)
    assert json.loads(part) == {"payload": None, "errors": [{"message": 'slow "consumer"'}]}
    assert framing.abort("") == "--\r\n"


def body_parts(body: str) -> list[object]:
    """The JSON of each part of a complete body; fails unless the body ends with the close-delimiter."""
    assert body.endswith(END)
    chunks = body.removesuffix(END).split(PART)
    assert chunks[0] == ""  # nothing before the first part
    return [json.loads(chunk) for chunk in chunks[1:]]


def test_a_whole_body_in_order() -> None:
    machine = HTTPStreamProtocol(MultipartFraming(), PAYLOAD)
    machine.accept()
    machine.send_keepalive()
    machine.send_next(OPERATION_ID, '{"data":{"s":1}}')
    machine.send_error(OPERATION_ID, '[{"message":"bad"}]')
    *frames, close = machine.data_to_send()
    assert close == Close(CloseCode.NORMAL_CLOSURE, "")
    assert all(isinstance(frame, str) for frame in frames)
    assert body_parts("".join(str(frame) for frame in frames)) == [
        {},
        {},
        {"payload": {"data": {"s": 1}}},
        {"payload": {"errors": [{"message": "bad"}]}},
    ]


def test_a_shutdown_body_is_well_formed() -> None:
    machine = HTTPStreamProtocol(MultipartFraming(), PAYLOAD)
    machine.accept()
    machine.close(CloseCode.GOING_AWAY, "Server shutting down")
    *frames, close = machine.data_to_send()
    assert close == Close(CloseCode.GOING_AWAY, "Server shutting down")
    assert body_parts("".join(str(frame) for frame in frames)) == [
        {},
        {"payload": None, "errors": [{"message": "Server shutting down"}]},
    ]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("", False),
        ("multipart/mixed;subscriptionSpec=1.0", True),
        ('multipart/mixed;subscriptionSpec="1.0", application/json', True),
        ('application/json, multipart/mixed;boundary="graphql";subscriptionSpec=1.0', True),
        ('Multipart/Mixed; SubscriptionSpec = "1.0"', True),
        ('multipart/mixed;subscriptionSpec="1\\.0"', True),  # a quoted-pair stands for its character
        ("multipart/mixed;subscriptionSpec=1.0;q=0.5", True),
        ("multipart/mixed;q=0.5;subscriptionSpec=1.0", True),
        ("multipart/mixed;subscriptionSpec=1.0;q=0", False),
        ("multipart/mixed;subscriptionSpec=1.0;q=0.00", False),
        ("multipart/mixed;subscriptionSpec=1.0;q=high", False),
        ("multipart/mixed;subscriptionSpec=2.0", False),
        ("multipart/mixed", False),
        ("multipart/mixed;deferSpec=20220824", False),
        ("multipart/*;subscriptionSpec=1.0", False),
        ("*/*;subscriptionSpec=1.0", False),
        ("*/*", False),
        ("application/json;subscriptionSpec=1.0", False),
    ],
)
def test_accepts_multipart_subscription(accept: str | None, expected: bool) -> None:
    assert accepts_multipart_subscription(accept) is expected


# Incremental delivery: what graphql-core 3.3 wrote for `{ hello items @stream(initialCount: 1) }`, spaced as
# the engine might encode it (so an untouched payload is seen to go out byte for byte).
STREAM_INITIAL = (
    '{"data": {"hello": "x", "items": ["i0"]}, "pending": [{"id": "0", "path": ["items"]}], "hasNext": true}'
)
STREAM_ITEM = '{"hasNext": true, "incremental": [{"items": ["i1"], "id": "0"}]}'
STREAM_COMPLETED = '{"hasNext": true, "completed": [{"id": "0"}]}'
STREAM_END = '{"hasNext": false}'
V0_2 = IncrementalSpec.INCREMENTAL_V0_2
LEGACY = IncrementalSpec.DEFER_20220824


def test_incremental_framing_frames() -> None:
    framing = IncrementalMultipartFraming(V0_2)
    assert framing.content_type == 'multipart/mixed;boundary="graphql";incrementalSpec=v0.2'
    assert IncrementalMultipartFraming(LEGACY).content_type == 'multipart/mixed;boundary="graphql";deferSpec=20220824'
    assert framing.opening() == DELIMITER  # no part: clients take any JSON part for a result
    assert framing.heartbeat() == ""  # the incremental delivery RFC has none
    assert framing.complete() == "--\r\n"


def test_incremental_v0_2_writes_graphql_core_payloads_as_they_are() -> None:
    framing = IncrementalMultipartFraming(V0_2)
    for payload in (STREAM_INITIAL, STREAM_ITEM, STREAM_COMPLETED, STREAM_END):
        assert framing.next(payload) == HEAD + payload + DELIMITER


def test_deferspec_2022_writes_translations() -> None:
    framing = IncrementalMultipartFraming(LEGACY)
    assert framing.next(STREAM_INITIAL) == HEAD + '{"data":{"hello":"x","items":["i0"]},"hasNext":true}' + DELIMITER
    item = '{"incremental":[{"items":["i1"],"path":["items",1]}],"hasNext":true}'
    assert framing.next(STREAM_ITEM) == HEAD + item + DELIMITER
    assert framing.next(STREAM_COMPLETED) == ""  # nothing to say in the 2022 format
    assert framing.next(STREAM_END) == HEAD + '{"hasNext":false}' + DELIMITER


def test_deferspec_2022_leaves_a_single_result_untouched() -> None:
    single = '{"data": {"hello": "x"}}'
    assert IncrementalMultipartFraming(LEGACY).next(single) == HEAD + single + DELIMITER


@pytest.mark.parametrize("spec", list(IncrementalSpec))
def test_incremental_errors_before_and_after_a_result(spec: IncrementalSpec) -> None:
    framing = IncrementalMultipartFraming(spec)
    assert framing.error('[{"message":"bad"}]') == HEAD + '{"errors":[{"message":"bad"}]}' + DELIMITER
    framing.next(STREAM_INITIAL)
    # After a result: the response's last payload, which clients merge into the result they have.
    last = '{"errors":[{"message":"bad"}],"hasNext":false}'
    assert framing.error('[{"message":"bad"}]') == HEAD + last + DELIMITER


def test_incremental_abort() -> None:
    framing = IncrementalMultipartFraming(V0_2)
    assert framing.abort("") == "--\r\n"
    assert framing.abort('slow "consumer"') == HEAD + '{"errors":[{"message":"slow \\"consumer\\""}]}' + END
    framing.next(STREAM_INITIAL)
    last = '{"errors":[{"message":"Server shutting down"}],"hasNext":false}'
    assert framing.abort("Server shutting down") == HEAD + last + END


def test_an_incremental_body_in_order() -> None:
    machine = HTTPStreamProtocol(IncrementalMultipartFraming(LEGACY), SubscribePayload("{ hello items @stream }"))
    machine.accept()
    machine.send_keepalive()  # no heartbeat: nothing queued
    assert machine.send_next(OPERATION_ID, STREAM_INITIAL)
    assert machine.send_next(OPERATION_ID, STREAM_ITEM)
    assert machine.send_next(OPERATION_ID, STREAM_COMPLETED)  # running, though nothing is queued for it
    assert machine.next_frame(OPERATION_ID, STREAM_END) == HEAD + '{"hasNext":false}' + DELIMITER
    assert machine.send_complete(OPERATION_ID)
    *frames, close = machine.data_to_send()
    assert close == Close(CloseCode.NORMAL_CLOSURE, "")
    assert frames == [
        DELIMITER,
        HEAD + '{"data":{"hello":"x","items":["i0"]},"hasNext":true}' + DELIMITER,
        HEAD + '{"incremental":[{"items":["i1"],"path":["items",1]}],"hasNext":true}' + DELIMITER,
        "--\r\n",
    ]


def test_next_frame_is_none_when_the_framing_writes_nothing() -> None:
    machine = HTTPStreamProtocol(IncrementalMultipartFraming(LEGACY), PAYLOAD)
    machine.accept()
    assert machine.next_frame(OPERATION_ID, STREAM_INITIAL) is not None
    assert machine.next_frame(OPERATION_ID, STREAM_COMPLETED) is None


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, None),
        ("", None),
        ("application/json", None),
        # Apollo Client 4's GraphQL17Alpha9Handler and Defer20220824Handler, and urql's queries.
        ("multipart/mixed;incrementalSpec=v0.2,application/graphql-response+json,application/json;q=0.9", V0_2),
        ("multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9", LEGACY),
        ("application/graphql-response+json, application/graphql+json, application/json, multipart/mixed", LEGACY),
        ('multipart/mixed;boundary="graphql"', LEGACY),
        ('Multipart/Mixed; IncrementalSpec="v0.2"', V0_2),
        ('multipart/mixed; deferSpec="20220824"', LEGACY),
        ("multipart/mixed;incrementalSpec=v0.2;q=0", None),
        ("multipart/mixed;q=0", None),
        ("multipart/mixed;q=bad", None),
        ("multipart/mixed;incrementalSpec=v0.3", None),
        ("multipart/mixed;deferSpec=20230101", None),
        ("multipart/mixed;boundary=graphql;subscriptionSpec=1.0", None),  # Apollo's subscriptions
        ("multipart/*;incrementalSpec=v0.2", None),
        ("*/*", None),
        # Several: the highest q; on a tie, the format graphql-core writes.
        ("multipart/mixed;deferSpec=20220824, multipart/mixed;incrementalSpec=v0.2", V0_2),
        ("multipart/mixed;incrementalSpec=v0.2;q=0.5, multipart/mixed;deferSpec=20220824", LEGACY),
        ("multipart/mixed;incrementalSpec=v0.2;q=0.5, multipart/mixed;q=0.8", LEGACY),
        ("multipart/mixed;subscriptionSpec=1.0, multipart/mixed;incrementalSpec=v0.2;q=0.1", V0_2),
    ],
)
def test_incremental_multipart_spec(accept: str | None, expected: IncrementalSpec | None) -> None:
    assert incremental_multipart_spec(accept) is expected
