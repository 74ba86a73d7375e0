"""Apollo multipart subscription framing and Accept detection, synchronously: exact body text out."""

import pytest

from livegql.core import json
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close
from livegql.protocol.http_stream import OPERATION_ID, HTTPStreamProtocol
from livegql.protocol.messages import SubscribePayload
from livegql.protocol.multipart import MultipartFraming, accepts_multipart_subscription

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
