"""The one-operation HTTP stream machine, synchronously, over a framing whose output names each call."""

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livegql.core.errors import ProtocolMisuseError
from livegql.protocol.codes import CloseCode
from livegql.protocol.common import Close, Output
from livegql.protocol.http_stream import OPERATION_ID, HTTPStreamProtocol
from livegql.protocol.messages import SubscribePayload
from livegql.protocol.transport_ws import State, SubscribeReceived

PAYLOAD = SubscribePayload("subscription { s }")
ENDED = Close(CloseCode.NORMAL_CLOSURE, "")


class NamingFraming:
    """Each frame says which call made it; `silent` makes opening and abort write nothing, as SSE's abort does."""

    content_type = "test/stream"

    def __init__(self, *, silent: bool = False) -> None:
        self.silent = silent

    def opening(self) -> str:
        return "" if self.silent else "<open>"

    def next(self, payload_json: str) -> str:
        return f"<next {payload_json}>"

    def error(self, errors_json: str) -> str:
        return f"<error {errors_json}>"

    def complete(self) -> str:
        return "<complete>"

    def heartbeat(self) -> str:
        return "<beat>"

    def abort(self, reason: str) -> str:
        return "" if self.silent else f"<abort {reason}>"


def accepted(*, silent: bool = False) -> HTTPStreamProtocol:
    machine = HTTPStreamProtocol(NamingFraming(silent=silent), PAYLOAD)
    machine.accept()
    machine.events_received()
    machine.data_to_send()
    return machine


def test_nothing_happens_until_accepted_then_the_body_opens_and_the_operation_starts() -> None:
    assert HTTPStreamProtocol(NamingFraming(), PAYLOAD).state is State.INITIALISING
    machine = HTTPStreamProtocol(NamingFraming(), PAYLOAD)
    assert machine.events_received() == []
    assert machine.send_next(OPERATION_ID, "{}") is False
    machine.send_keepalive()
    assert machine.data_to_send() == []
    machine.accept()
    assert machine.state is State.ACKNOWLEDGED
    assert machine.data_to_send() == ["<open>"]
    assert machine.events_received() == [SubscribeReceived(OPERATION_ID, PAYLOAD)]


def test_an_empty_opening_is_not_queued() -> None:
    machine = HTTPStreamProtocol(NamingFraming(silent=True), PAYLOAD)
    machine.accept()
    assert machine.data_to_send() == []


def test_results_are_framed_and_only_for_the_running_operation() -> None:
    machine = accepted()
    assert machine.send_next("2", '{"data":1}') is False
    assert machine.next_frame("2", '{"data":1}') is None
    assert machine.send_next(OPERATION_ID, '{"data":1}') is True
    assert machine.next_frame(OPERATION_ID, '{"data":2}') == '<next {"data":2}>'
    assert machine.data_to_send() == ['<next {"data":1}>']  # next_frame queued nothing


def test_an_error_ends_the_response_with_complete_then_close() -> None:
    machine = accepted()
    assert machine.send_error("2", "[]") is False
    assert machine.send_error(OPERATION_ID, '[{"message":"boom"}]') is True
    assert machine.data_to_send() == ['<error [{"message":"boom"}]>', "<complete>", ENDED]
    assert machine.state is State.CLOSED
    assert_silent(machine)


def test_completion_ends_the_response() -> None:
    machine = accepted()
    assert machine.send_complete("2") is False
    assert machine.send_complete(OPERATION_ID) is True
    assert machine.data_to_send() == ["<complete>", ENDED]
    assert_silent(machine)


def test_heartbeats_only_while_the_operation_runs() -> None:
    machine = accepted()
    machine.send_keepalive()
    assert machine.data_to_send() == ["<beat>"]
    machine.send_complete(OPERATION_ID)
    machine.data_to_send()
    machine.send_keepalive()
    assert machine.data_to_send() == []


def test_reject_closes_4403_and_the_operation_never_starts() -> None:
    machine = HTTPStreamProtocol(NamingFraming(), PAYLOAD)
    machine.reject("no token")
    assert machine.data_to_send() == [Close(CloseCode.FORBIDDEN, "no token")]
    machine.accept()  # the verdict came too late: no-op once closed
    machine.reject()
    assert machine.events_received() == []
    assert machine.data_to_send() == []
    default = HTTPStreamProtocol(NamingFraming(), PAYLOAD)
    default.reject()
    assert default.data_to_send() == [Close(CloseCode.FORBIDDEN, "Forbidden")]


def test_init_timeout_closes_4408_only_while_pending() -> None:
    machine = HTTPStreamProtocol(NamingFraming(), PAYLOAD)
    machine.init_timeout_expired()
    assert machine.data_to_send() == [
        Close(CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout")
    ]
    running = accepted()
    running.init_timeout_expired()
    assert running.data_to_send() == []
    assert running.state is State.ACKNOWLEDGED


def test_misuse_raises() -> None:
    machine = accepted()
    with pytest.raises(ProtocolMisuseError):
        machine.accept()
    with pytest.raises(ProtocolMisuseError):
        machine.reject()


def test_close_aborts_an_open_body_then_closes_once() -> None:
    machine = accepted()
    machine.close(CloseCode.TRY_AGAIN_LATER, "slow consumer")
    machine.close(CloseCode.GOING_AWAY, "shutdown")
    assert machine.data_to_send() == ["<abort slow consumer>", Close(CloseCode.TRY_AGAIN_LATER, "slow consumer")]
    assert_silent(machine)


def test_close_with_nothing_to_abort_or_before_the_body_is_only_the_close() -> None:
    silent = accepted(silent=True)
    silent.close(CloseCode.GOING_AWAY, "")
    assert silent.data_to_send() == [Close(CloseCode.GOING_AWAY, "")]
    pending = HTTPStreamProtocol(NamingFraming(), PAYLOAD)
    pending.close(CloseCode.GOING_AWAY, "shutdown")
    assert pending.data_to_send() == [Close(CloseCode.GOING_AWAY, "shutdown")]


def test_connection_lost_queues_nothing_and_refuses_frames() -> None:
    machine = accepted()
    machine.connection_lost()
    assert machine.state is State.CLOSED
    machine.close(CloseCode.GOING_AWAY, "shutdown")
    assert machine.data_to_send() == []
    assert_silent(machine)


def assert_silent(machine: HTTPStreamProtocol) -> None:
    """Once the response ended nothing more is framed, whatever is called."""
    assert machine.send_next(OPERATION_ID, "{}") is False
    assert machine.next_frame(OPERATION_ID, "{}") is None
    assert machine.send_error(OPERATION_ID, "[]") is False
    assert machine.send_complete(OPERATION_ID) is False
    machine.send_keepalive()
    machine.close(CloseCode.GOING_AWAY, "again")
    machine.init_timeout_expired()
    assert machine.data_to_send() == []


CALLS = st.sampled_from(
    ["accept", "reject", "timeout", "next", "error", "complete", "keepalive", "close", "lost"],
)


@given(st.lists(CALLS, max_size=12))
def test_any_sequence_opens_first_and_ends_with_at_most_one_close(calls: list[str]) -> None:
    machine = HTTPStreamProtocol(NamingFraming(), PAYLOAD)
    outputs: list[Output] = []
    for call in calls:
        if call == "accept" and machine.state is not State.INITIALISING:
            continue  # accept() twice is misuse, covered above
        if call == "reject" and machine.state is State.ACKNOWLEDGED:
            continue
        drive(machine, call)
        outputs.extend(machine.data_to_send())
    closes = [index for index, output in enumerate(outputs) if isinstance(output, Close)]
    assert closes in ([], [len(outputs) - 1])
    if outputs and outputs[0] != "<open>":
        assert len(outputs) == 1  # a refusal before the body: only the Close


def drive(machine: HTTPStreamProtocol, call: str) -> None:
    actions: dict[str, Callable[[], object]] = {
        "accept": machine.accept,
        "reject": machine.reject,
        "timeout": machine.init_timeout_expired,
        "next": lambda: machine.send_next(OPERATION_ID, "{}"),
        "error": lambda: machine.send_error(OPERATION_ID, "[]"),
        "complete": lambda: machine.send_complete(OPERATION_ID),
        "keepalive": machine.send_keepalive,
        "close": lambda: machine.close(CloseCode.GOING_AWAY, "bye"),
        "lost": machine.connection_lost,
    }
    actions[call]()
