"""The chat demo's input rules; each check returns the normalised value or raises a client-facing GraphQLError."""

import re

from graphql import GraphQLError

ROOM_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_AUTHOR_LENGTH = 64
MAX_TEXT_LENGTH = 2000
DEFAULT_LAST = 20
MAX_LAST = 500

BAD_USER_INPUT = "BAD_USER_INPUT"


def invalid(argument: str, message: str) -> GraphQLError:
    # A GraphQLError reaches the client as written (livegql masks only unexpected exceptions); the
    # extensions let a client tell which argument to fix without parsing the message.
    return GraphQLError(message, extensions={"code": BAD_USER_INPUT, "argument": argument})


def check_room(room: str) -> str:
    if not ROOM_PATTERN.fullmatch(room):
        raise invalid("room", "room must be 1-64 characters of letters, digits, '_' or '-'")
    return room


def check_author(author: str) -> str:
    """Surrounding whitespace is dropped, so "  " is as empty as ""."""
    author = author.strip()
    if not author:
        raise invalid("author", "author must not be empty")
    if len(author) > MAX_AUTHOR_LENGTH:
        raise invalid("author", f"author must be at most {MAX_AUTHOR_LENGTH} characters")
    return author


def check_text(text: str) -> str:
    """Surrounding whitespace is dropped, so a message of blanks is rejected as empty."""
    text = text.strip()
    if not text:
        raise invalid("text", "text must not be empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise invalid("text", f"text must be at most {MAX_TEXT_LENGTH} characters")
    return text


def check_last(last: int | None) -> int:
    """An explicit `last: null` means the default."""
    if last is None:
        return DEFAULT_LAST
    if not 1 <= last <= MAX_LAST:
        raise invalid("last", f"last must be between 1 and {MAX_LAST}")
    return last
