"""The same frames and the same oracle, fed straight to the sans-I/O machines (no socket, no timing): the
machines agree with the specs, including in the state no socket test can hold still (an on_connect that has
not decided yet: every Subscribe then closes 4401)."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from livegql.core import json
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close
from livegql.protocol.legacy_ws import LegacyServerProtocol
from livegql.protocol.plain_ws import PlainServerProtocol
from livegql.protocol.transport_ws import ConnectionInitReceived, ServerProtocol, SubscribeReceived
from tests.fuzz.ws_driver import Received, check
from tests.fuzz.ws_model import (
    INVALID_PAYLOAD,
    LEGACY,
    PLAIN,
    PREDICT,
    TRANSPORT_WS,
    Frame,
    not_text,
    predict_transport_ws,
    too_large,
)
from tests.fuzz.ws_strategies import connection_frames

Machine = ServerProtocol | LegacyServerProtocol | PlainServerProtocol
MACHINES: dict[str, type[Machine]] = {
    TRANSPORT_WS: ServerProtocol, LEGACY: LegacyServerProtocol, PLAIN: PlainServerProtocol
}  # fmt: skip
EXAMPLES = 150


def feed(protocol: str, frames: list[Frame], *, decide: bool = True) -> Received:
    """Play the app's part as the fuzz server does: on_connect admits (refuses a `reject` payload) at once, or
    never when not `decide`; an operation that ends by itself ends before the next frame."""
    machine = MACHINES[protocol]()
    outputs: list[str | Close] = []
    for frame in frames:
        if not_text(frame):  # failed by the WebSocket layer: the machine never sees it
            return Received([json.loads(o) for o in outputs if isinstance(o, str)], INVALID_PAYLOAD)
        if too_large(frame):  # the transport's size check, before the machine reads the frame
            machine.close(CloseCode.BAD_REQUEST, "Message too large")
        else:
            machine.receive_text(frame.data)
        for event in machine.events_received():
            if isinstance(event, ConnectionInitReceived) and decide:
                refused = (event.payload or {}).get("reject") is True
                machine.reject("refused on request") if refused else machine.accept()
            elif isinstance(event, SubscribeReceived) and not frame.held:
                machine.send_complete(event.id)
        outputs.extend(machine.data_to_send())
    closes = [output.code for output in outputs if isinstance(output, Close)]
    assert len(closes) <= 1, outputs
    assert not closes or isinstance(outputs[-1], Close), outputs  # a Close is the last output
    messages: list[Any] = [json.loads(output) for output in outputs if isinstance(output, str)]
    return Received(messages, int(closes[0]) if closes else None)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY, PLAIN])
def test_machines_answer_as_the_specs_say(protocol: str) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(connection_frames(protocol))
    def run(frames: list[Frame]) -> None:
        expected = PREDICT[protocol](frames)
        check(protocol, frames, expected, feed(protocol, frames[: expected.sent]), probed=False)

    run()


@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(connection_frames(TRANSPORT_WS))
def test_operations_before_the_verdict_close_4401(frames: list[Frame]) -> None:
    expected = predict_transport_ws(frames, undecided=True)
    check(TRANSPORT_WS, frames, expected, feed(TRANSPORT_WS, frames[: expected.sent], decide=False), probed=False)
