"""Which pages may open a WebSocket or an SSE stream: the Origin header against the server's own origin and
`Settings.allowed_origins`. Pure functions of the raw ASGI scope, read before any upgrade or stream."""

import functools
from collections.abc import Iterable
from http import HTTPStatus

from starlette.types import Scope

from livegql.core.config import Settings
from livegql.protocol.http import BadRequest

FOREIGN_ORIGIN = "This page's origin may not open a stream here (see the allowed_origins setting)"
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_HTTP_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def origin_allowed(scope: Scope, settings: Settings) -> bool:
    """Whether the handshake's Origin is the server's own, one of `allowed_origins` (or they are `("*",)`);
    a missing Origin follows `allow_missing_origin`, and `Origin: null` is foreign."""
    origin, host, fetch_site = _read_headers(scope["headers"])
    allowed = settings.allowed_origins
    if origin is None:
        # A browser leaves Origin out of a GET it sends in no-cors mode (a page's blind fetch), but says where the
        # request came from (Fetch Metadata): from another origin, it is not a client that sends no Origin.
        from_elsewhere = fetch_site not in (None, "same-origin", "none")
        return settings.allow_missing_origin and (allowed == ("*",) or not from_elsewhere)
    if allowed == ("*",):
        return True
    normal = normalise(origin)
    if normal is None:
        return False
    scheme = _HTTP_SCHEMES.get(scope.get("scheme", "http"), "http")
    if host is not None and normal == normalise(f"{scheme}://{host}"):
        return True
    return normal in _normalised(allowed)


def check_origin(scope: Scope, settings: Settings) -> None:
    """Raise BadRequest (403) for a foreign Origin."""
    if not origin_allowed(scope, settings):
        raise BadRequest(HTTPStatus.FORBIDDEN, FOREIGN_ORIGIN)


def normalise(origin: str) -> str | None:
    """`scheme://host[:port]` in lowercase without the scheme's default port; None if it is no such origin
    (`null`, a path, an unknown scheme)."""
    scheme, separator, rest = origin.strip().lower().partition("://")
    if not separator or scheme not in _DEFAULT_PORTS or not rest or "/" in rest or "@" in rest:
        return None
    if rest.startswith("["):  # an IPv6 literal: its colons are not the port's
        end = rest.find("]") + 1
        host, after = rest[:end], rest[end:]
        if not end or (after and not after.startswith(":")):
            return None
        port = after[1:]
    else:
        host, _, port = rest.partition(":")
    if port and not port.isdigit():
        return None
    return f"{scheme}://{host}" if port in ("", _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


@functools.lru_cache(maxsize=16)
def _normalised(origins: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normal for normal in map(normalise, origins) if normal is not None)


def _read_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None, str | None]:
    """Origin, Host and Sec-Fetch-Site, each the first of its name."""
    origin = host = fetch_site = None
    for name, value in headers:
        if name == b"origin" and origin is None:
            origin = value.decode("latin-1")
        elif name == b"host" and host is None:
            host = value.decode("latin-1")
        elif name == b"sec-fetch-site" and fetch_site is None:
            fetch_site = value.decode("latin-1").strip().lower()
    return origin, host, fetch_site
