"""The demo's input rules at their boundaries, and the shape of the error a client sees."""

from collections.abc import Callable
from typing import Any

import pytest
from graphql import GraphQLError

from livegql.demo.validation import (
    BAD_USER_INPUT,
    DEFAULT_LAST,
    check_author,
    check_last,
    check_room,
    check_text,
)


@pytest.mark.parametrize("room", ["general", "a", "A-z_09", "r" * 64])
def test_valid_rooms_pass_unchanged(room: str) -> None:
    assert check_room(room) == room


@pytest.mark.parametrize("room", ["", "r" * 65, "with space", "dot.ted", "üñí", "general\n", "a/b"])
def test_invalid_rooms_are_rejected(room: str) -> None:
    with pytest.raises(GraphQLError, match="room must be 1-64 characters"):
        check_room(room)


def test_author_and_text_are_trimmed() -> None:
    assert check_author("  ann ") == "ann"
    assert check_text("\thello \n") == "hello"


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (check_author, "", "author must not be empty"),
        (check_author, "   ", "author must not be empty"),
        (check_author, "a" * 65, "author must be at most 64 characters"),
        (check_text, "", "text must not be empty"),
        (check_text, " \n\t", "text must not be empty"),
        (check_text, "t" * 2001, "text must be at most 2000 characters"),
        (check_last, 0, "last must be between 1 and 500"),
        (check_last, -3, "last must be between 1 and 500"),
        (check_last, 501, "last must be between 1 and 500"),
    ],
)
def test_invalid_values_are_rejected(check: Callable[[Any], Any], value: Any, message: str) -> None:
    with pytest.raises(GraphQLError) as caught:
        check(value)
    assert caught.value.message == message


def test_length_limits_are_inclusive() -> None:
    assert check_author("a" * 64) == "a" * 64
    assert check_text("t" * 2000) == "t" * 2000
    assert check_last(1) == 1
    assert check_last(500) == 500


def test_null_last_means_the_default() -> None:
    assert check_last(None) == DEFAULT_LAST == 20


def test_errors_name_the_argument_for_clients() -> None:
    with pytest.raises(GraphQLError) as caught:
        check_text("")
    assert caught.value.extensions == {"code": BAD_USER_INPUT, "argument": "text"}
