"""The resume extensions as pure functions: merging a Subscribe's extensions, reading acks, positions and errors."""

from typing import Any

import pytest

from livegql.client import ClientError, HistoryGoneError
from livegql.client.resume import (
    error_of,
    is_acknowledgement,
    position_of,
    requested_resume,
    subscribe_extensions,
)


def test_our_extensions_are_merged_over_the_callers() -> None:
    user = {"trace": "t", "acknowledge": False}
    assert subscribe_extensions(user, acknowledge=True, resume_after="p1") == {
        "trace": "t",
        "acknowledge": True,
        "resumeAfter": "p1",
    }
    assert user == {"trace": "t", "acknowledge": False}  # the caller's dict is not changed
    assert subscribe_extensions(None, acknowledge=True, resume_after=None) == {"acknowledge": True}
    assert subscribe_extensions(user, acknowledge=False, resume_after=None) is user
    assert subscribe_extensions(None, acknowledge=False, resume_after=None) is None


def test_a_resume_position_the_caller_gave_is_used_only_if_it_is_a_string() -> None:
    assert requested_resume({"resumeAfter": "p9"}) == "p9"
    assert requested_resume({"resumeAfter": 9}) is None
    assert requested_resume(None) is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"extensions": {"subscribed": True, "position": "p0"}}, True),
        ({"extensions": {"subscribed": True}}, True),
        ({"data": None, "extensions": {"subscribed": True}}, False),  # a result, whatever its extensions
        ({"errors": [{"message": "x"}], "extensions": {"subscribed": True}}, False),
        ({"extensions": {"subscribed": "yes"}}, False),
        ({"extensions": None}, False),
        ({}, False),
    ],
)
def test_an_ack_is_a_subscribed_next_without_data_or_errors(payload: dict[str, Any], expected: bool) -> None:
    assert is_acknowledgement(payload) is expected


def test_positions_are_opaque_strings_or_absent() -> None:
    assert position_of({"data": {}, "extensions": {"position": "1732590000000-3"}}) == "1732590000000-3"
    assert position_of({"data": {}, "extensions": {"position": 3}}) is None
    assert position_of({"data": {}, "extensions": []}) is None
    assert position_of({"data": {}}) is None


def test_only_a_history_gone_code_makes_history_gone_error() -> None:
    gone = [{"message": "gone", "extensions": {"code": "HISTORY_GONE", "position": "p1"}}]
    error = error_of(gone, "p1")
    assert isinstance(error, HistoryGoneError)
    assert (str(error), error.position, error.errors) == ("gone", "p1", gone)
    for errors in ([{"message": "bad", "extensions": {"code": "INVALID_POSITION"}}], [{"message": "plain"}]):
        other = error_of(errors, "p1")
        assert type(other) is ClientError
        assert other.errors == errors
