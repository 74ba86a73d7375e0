"""CSRF prevention (`Settings.csrf_prevention`), as Apollo Server's: refuse a request that a cross-site page
could send without a CORS preflight, since its side effects would happen before CORS is ever consulted."""

from collections.abc import Iterable
from http import HTTPStatus

from livegql.protocol.http import BadRequest

PREFLIGHT_HEADERS = ("graphql-require-preflight", "apollo-require-preflight", "x-apollo-operation-name")
# The content types a browser sends cross-site without a preflight (the Fetch standard's CORS-safelisted ones).
SIMPLE_CONTENT_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
_PREFLIGHT_NAMES = frozenset(name.encode() for name in PREFLIGHT_HEADERS)
_SIMPLE_TYPES = frozenset(kind.encode() for kind in SIMPLE_CONTENT_TYPES)

CSRF_REFUSED = (
    "This request was refused as a potential cross-site request forgery (CSRF): send a Content-Type other than "
    f"{', '.join(SIMPLE_CONTENT_TYPES)} (such as application/json), or a non-empty {PREFLIGHT_HEADERS[0]} "
    f"header (or {', '.join(PREFLIGHT_HEADERS[1:])})"
)


def could_be_cross_site(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a browser could send a request with these (raw ASGI, lowercase-named) headers from another
    site without a preflight: no Content-Type or a simple one, and no preflight-forcing header."""
    for name, value in headers:
        if name == b"content-type":
            if _essence(value) not in _SIMPLE_TYPES:
                return False  # JSON and friends: a browser preflights them
        elif name in _PREFLIGHT_NAMES and value.strip():
            return False  # a header no simple request carries
    return True


def check_csrf(headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Raise BadRequest (400) naming the header to add, for a request a cross-site page could send."""
    if could_be_cross_site(headers):
        raise BadRequest(HTTPStatus.BAD_REQUEST, CSRF_REFUSED)


def _essence(content_type: bytes) -> bytes:
    return content_type.split(b";", 1)[0].strip().lower()
