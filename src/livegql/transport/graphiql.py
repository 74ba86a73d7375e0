"""GraphiQL for browsers at the GraphQL path: the page a navigation (`Accept: text/html`) gets, and its bundled
assets (`?graphiql=graphiql.js`), read from the package so no CDN is needed. web/graphiql/ builds them."""

import functools
import hashlib
import html
import re
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources

from starlette.requests import Request
from starlette.types import Send

from livegql.core.config import Settings
from livegql.protocol.http import prefers_over_json

HTML = "text/html"
ASSET_PARAM = "graphiql"
VERSION_PARAM = "v"
ASSET_TYPES = {
    "graphiql.js": "text/javascript; charset=utf-8",
    "graphiql.css": "text/css; charset=utf-8",
    "graphiql.js.LEGAL.txt": "text/plain; charset=utf-8",
}
_HOST = re.compile(r"[A-Za-z0-9.\-]+(?::[0-9]+)?|\[[0-9A-Fa-f:.]+\](?::[0-9]+)?")
IMMUTABLE = "public, max-age=31536000, immutable"
# No inline script anywhere, so scripts need only 'self'. Styles need 'unsafe-inline': GraphiQL's dialogs inject a
# <style> element (react-remove-scroll) whose text varies, so no hash can name it. Its CSS
# embeds its fonts and icons as data: URLs. The WebSocket goes to this same host: CSP Level 3's 'self'
# covers ws(s) to it, and the explicit ws:/wss: origins (added per request) serve browsers that predate it.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
    "img-src 'self' data:; connect-src 'self'{ws}; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphiQL · livegql</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{css}">
<script defer src="{js}"></script>
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</div>
</body>
</html>
"""


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response with headers of its own (a security policy, caching)."""

    status: HTTPStatus
    content_type: str
    body: bytes
    headers: list[tuple[bytes, bytes]]

    async def send(self, send: Send) -> None:
        headers = [
            (b"content-length", str(len(self.body)).encode()),
            (b"content-type", self.content_type.encode()),
            *self.headers,
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def enabled(settings: Settings) -> bool:
    """`Settings.graphiql`; None follows `production` (off in production, like introspection)."""
    return not settings.production if settings.graphiql is None else settings.graphiql


def wants_graphiql(request: Request) -> bool:
    """A browser asking for a page (or one of its assets) with GET: HTML ranked above every JSON type, or an
    asset named by the query string. Whatever else the request says, it is not executed."""
    if request.method != "GET":
        return False
    if ASSET_PARAM in request.query_params:
        return True
    accept = request.headers.get("accept", "")
    return HTML in accept and prefers_over_json(accept, HTML)


def graphiql_answer(request: Request) -> Response:
    """The page, or the asset that `?graphiql=` names (404 if there is no such asset)."""
    name = request.query_params.get(ASSET_PARAM)
    if name is None:
        return _page(request)
    return _asset(name, request.query_params.get(VERSION_PARAM))


def _page(request: Request) -> Response:
    path = request.scope["path"]  # ASGI: the full path, any root_path (a mount point) included
    body = PAGE.format(css=_asset_url(path, "graphiql.css"), js=_asset_url(path, "graphiql.js"), endpoint=_attr(path))
    host = request.headers.get("host", "")
    # Only a well-formed host goes into the header: it comes from the client.
    ws = f" ws://{host} wss://{host}" if _HOST.fullmatch(host) else ""
    headers = [
        (b"content-security-policy", CSP.format(ws=ws).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-cache"),
    ]
    return Response(HTTPStatus.OK, "text/html; charset=utf-8", body.encode(), headers)


def _asset(name: str, version: str | None) -> Response:
    content_type = ASSET_TYPES.get(name)
    if content_type is None:
        return Response(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"No such GraphiQL asset", [])
    body = _read_asset(name)
    # A URL carrying the content's own hash never changes meaning: browsers may keep it for good.
    cache = IMMUTABLE if version == _digest(name) else "no-cache"
    headers = [(b"cache-control", cache.encode()), (b"x-content-type-options", b"nosniff")]
    return Response(HTTPStatus.OK, content_type, body, headers)


def _asset_url(path: str, name: str) -> str:
    return _attr(f"{path}?{ASSET_PARAM}={name}&{VERSION_PARAM}={_digest(name)}")


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


@functools.cache
def _read_asset(name: str) -> bytes:
    """The bundled file, read once per process (about 1.7 MB in all, only once a browser asks)."""
    return resources.files("livegql.transport").joinpath("static", "graphiql", name).read_bytes()


@functools.cache
def _digest(name: str) -> str:
    return hashlib.sha256(_read_asset(name)).hexdigest()[:16]
