"""JSON as RFC 8259 defines it, decoded independently of the server's codec, with the implementation limits
RFC 8259 section 9 allows a parser (the oracle says which frames a conforming server must refuse).

Limits: numbers must fit a double (1e400 does not), strings must be valid Unicode (no lone surrogate
escapes), nesting at most MAX_DEPTH, and no byte order mark (section 8.1: a parser MAY ignore one; the
server's does not, and the fuzz never relies on either choice being the other).
"""

import json
import math
from typing import Any, Final

MAX_DEPTH: Final = 512  # generated documents are either far below or far above any parser's limit
INVALID: Final = object()


class TextBytes(bytes):
    """Bytes to send in a *text* frame (most are valid UTF-8 JSON; some are not, which RFC 6455 section 8.1
    answers by failing the connection: close 1007)."""


def valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode(data: str | bytes) -> Any:
    """The decoded value, or INVALID when `data` is not a JSON text the server can be asked to read."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return INVALID
    return value if _within_limits(value, 0) else INVALID


def _within_limits(value: Any, depth: int) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= 2**63  # beyond 64 bits a parser may round or refuse: never generated
    if isinstance(value, str):
        return _unicode(value)
    if isinstance(value, list):
        return all(_within_limits(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(_unicode(key) and _within_limits(item, depth + 1) for key, item in value.items())
    return True


def _unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
