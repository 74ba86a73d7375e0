"""The one JSON codec (orjson): every byte livegql reads or writes as JSON goes through here."""

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError


def dumps(value: Any) -> str:
    """Encode to a str, ready for a WebSocket text frame or concatenation into one."""
    return orjson.dumps(value).decode()


def dumps_bytes(value: Any) -> bytes:
    """Encode to bytes, for HTTP bodies."""
    return orjson.dumps(value)


def loads(data: str | bytes) -> Any:
    """Decode; raises JSONDecodeError (a ValueError) on malformed input."""
    return orjson.loads(data)
