"""Cross-site defences over real sockets: the Origin allowlist on every WebSocket and SSE handshake (403 before
any upgrade or stream), CSRF prevention on HTTP (400, and nothing executed), and CORS when configured."""

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from graphql import GraphQLResolveInfo
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from livegql.transport.origin import normalise
from tests.support.schema import make_resolvers
from tests.support.server import LiveServer
from tests.transport.http_helpers import JSON, PUBLISH, assert_error_response, start

FOREIGN = "https://evil.example"
ALLOWED = "https://app.example.com"
SUBPROTOCOLS = {
    "graphql-transport-ws": [Subprotocol("graphql-transport-ws")],
    "legacy": [Subprotocol("graphql-ws")],
    "plain": None,
}
EVENT_STREAM = "text/event-stream"
PUBLISHED: list[tuple[str, str]] = []


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """Default settings plus one allowed origin; `publish` records its calls, so a test sees whether it ran."""
    resolvers = make_resolvers()

    def publish(_: Any, __: GraphQLResolveInfo, topic: str, text: str) -> bool:
        PUBLISHED.append((topic, text))
        return True

    resolvers["Mutation"]["publish"] = publish
    with start(resolvers=resolvers, allowed_origins=(ALLOWED,)) as live:
        yield live


@pytest.fixture
def published() -> list[tuple[str, str]]:
    PUBLISHED.clear()
    return PUBLISHED


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def handshake_status(server: LiveServer, kind: str, origin: str | None) -> int:
    """101 when the upgrade succeeds, else the HTTP status the server refused it with."""
    headers = {"Origin": origin} if origin is not None else None
    try:
        with connect(server.ws_url, subprotocols=SUBPROTOCOLS[kind], additional_headers=headers, open_timeout=10):
            return HTTPStatus.SWITCHING_PROTOCOLS
    except InvalidStatus as refused:
        return refused.response.status_code


def own_origin(server: LiveServer) -> str:
    return f"http://127.0.0.1:{server.port}"


# --- WebSocket: the Origin allowlist before the upgrade ----------------------------------------------


@pytest.mark.parametrize("kind", list(SUBPROTOCOLS))
@pytest.mark.parametrize("origin", [FOREIGN, "null", "http://app.example.com", "https://app.example.com:8443"])
def test_a_foreign_origin_is_refused_with_403_before_the_upgrade(server: LiveServer, kind: str, origin: str) -> None:
    assert handshake_status(server, kind, origin) == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("kind", list(SUBPROTOCOLS))
def test_the_own_origin_an_allowed_one_and_none_are_upgraded(server: LiveServer, kind: str) -> None:
    for origin in (own_origin(server), ALLOWED, "HTTPS://App.Example.com:443", None):
        assert handshake_status(server, kind, origin) == HTTPStatus.SWITCHING_PROTOCOLS, origin


def test_a_missing_origin_is_refused_when_not_allowed() -> None:
    with start(allow_missing_origin=False) as strict:
        assert handshake_status(strict, "graphql-transport-ws", None) == HTTPStatus.FORBIDDEN
        assert handshake_status(strict, "graphql-transport-ws", own_origin(strict)) == HTTPStatus.SWITCHING_PROTOCOLS


def test_a_star_allows_every_origin() -> None:
    with start(allowed_origins=("*",)) as open_server:
        assert handshake_status(open_server, "graphql-transport-ws", FOREIGN) == HTTPStatus.SWITCHING_PROTOCOLS


# --- SSE: distinct connections and single connection mode --------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_foreign_page_cannot_open_a_distinct_mode_event_stream(
    server: LiveServer, client: httpx.Client, method: str
) -> None:
    headers = {"origin": FOREIGN, "accept": EVENT_STREAM, "content-type": JSON}
    query = "subscription { count(to: 2) }"
    if method == "GET":
        response = client.get(server.http_url, params={"query": query}, headers=headers)
    else:
        response = client.post(server.http_url, json={"query": query}, headers=headers)
    assert_error_response(response, HTTPStatus.FORBIDDEN)


def test_an_allowed_page_opens_an_event_stream_over_get_without_a_preflight_header(
    server: LiveServer, client: httpx.Client
) -> None:
    params = {"query": "subscription { count(to: 2) }"}
    response = client.get(server.http_url, params=params, headers={"origin": ALLOWED, "accept": EVENT_STREAM})
    assert response.status_code == HTTPStatus.OK
    assert response.headers["content-type"].startswith(EVENT_STREAM)
    assert '"count":2' in response.text


@pytest.mark.parametrize(
    ("fetch_site", "status"),
    [("cross-site", 403), ("same-site", 403), ("same-origin", 200), ("none", 200), (None, 200)],
)
def test_a_blind_event_stream_get_from_another_origin_is_refused(
    server: LiveServer, client: httpx.Client, fetch_site: str | None, status: int
) -> None:
    """A page's no-cors fetch sends no Origin (and, being a GET for an event stream, no CSRF header is asked
    of it), but Fetch Metadata says where it came from; a client that sends neither is no browser."""
    headers = {"accept": EVENT_STREAM}
    if fetch_site is not None:
        headers |= {"sec-fetch-site": fetch_site, "sec-fetch-mode": "no-cors"}
    response = client.get(server.http_url, params={"query": "{ hello }"}, headers=headers)
    assert response.status_code == status, response.text


def test_a_foreign_page_can_neither_reserve_nor_open_a_single_mode_stream(
    server: LiveServer, client: httpx.Client
) -> None:
    assert_error_response(client.put(server.http_url, headers={"origin": FOREIGN}), HTTPStatus.FORBIDDEN)
    reserved = client.put(server.http_url, headers={"origin": ALLOWED})
    assert reserved.status_code == HTTPStatus.CREATED
    opened = client.get(
        server.http_url,
        headers={"origin": FOREIGN, "accept": EVENT_STREAM, "x-graphql-event-stream-token": reserved.text},
    )
    assert_error_response(opened, HTTPStatus.FORBIDDEN)


# --- CSRF prevention ---------------------------------------------------------------------------------

SIMPLE_POSTS = [
    pytest.param(b'{"query": "mutation { publish(topic: \\"t\\", text: \\"hi\\") }"}', "text/plain", id="text-plain"),
    pytest.param(b"query=x", "application/x-www-form-urlencoded", id="form"),
    pytest.param(b"--b\r\n\r\n--b--", "multipart/form-data; boundary=b", id="multipart-form"),
    pytest.param(b'{"query": "mutation { publish(topic: \\"t\\", text: \\"hi\\") }"}', None, id="no-content-type"),
]


@pytest.mark.parametrize(("body", "content_type"), SIMPLE_POSTS)
def test_a_post_a_page_could_send_cross_site_is_400_and_never_executes(
    server: LiveServer, client: httpx.Client, published: list[tuple[str, str]], body: bytes, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(server.http_url, content=body, headers=headers)
    message = assert_error_response(response, HTTPStatus.BAD_REQUEST)
    assert "graphql-require-preflight" in message
    assert published == []


def test_a_get_without_a_preflight_header_is_400_and_never_executes(server: LiveServer, client: httpx.Client) -> None:
    response = client.get(server.http_url, params={"query": "{ hello }"})
    message = assert_error_response(response, HTTPStatus.BAD_REQUEST)
    assert "graphql-require-preflight" in message


@pytest.mark.parametrize("header", ["graphql-require-preflight", "apollo-require-preflight", "x-apollo-operation-name"])
def test_a_preflight_forcing_header_lets_the_request_through(
    server: LiveServer, client: httpx.Client, published: list[tuple[str, str]], header: str
) -> None:
    response = client.get(server.http_url, params={"query": "{ hello }"}, headers={header: "1"})
    assert response.json() == {"data": {"hello": "Hello, world!"}}
    # A simple content type with the header gets past CSRF prevention, to the content-type check (415).
    refused = client.post(server.http_url, content=b"{}", headers={header: "1", "content-type": "text/plain"})
    assert refused.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert published == []


def test_a_json_post_needs_no_header_and_runs(
    server: LiveServer, client: httpx.Client, published: list[tuple[str, str]]
) -> None:
    response = client.post(server.http_url, json={"query": PUBLISH})
    assert response.json() == {"data": {"publish": True}}
    assert published == [("t", "hi")]


def test_an_empty_preflight_header_does_not_count(server: LiveServer, client: httpx.Client) -> None:
    response = client.get(server.http_url, params={"query": "{ hello }"}, headers={"apollo-require-preflight": ""})
    assert_error_response(response, HTTPStatus.BAD_REQUEST)


def test_csrf_prevention_can_be_turned_off(client: httpx.Client) -> None:
    with start(csrf_prevention=False) as lax:
        response = client.get(lax.http_url, params={"query": "{ hello }"})
    assert response.json() == {"data": {"hello": "Hello, world!"}}


# --- CORS --------------------------------------------------------------------------------------------


def preflight(client: httpx.Client, server: LiveServer, origin: str) -> httpx.Response:
    headers = {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, graphql-require-preflight",
    }
    return client.options(server.http_url, headers=headers)


def test_cors_answers_preflights_for_allowed_origins_only(client: httpx.Client) -> None:
    with start(cors_allow_origins=(ALLOWED,), cors_allow_credentials=True) as cors:
        allowed = preflight(client, cors, ALLOWED)
        assert allowed.status_code == HTTPStatus.OK
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert "POST" in allowed.headers["access-control-allow-methods"]
        assert "graphql-require-preflight" in allowed.headers["access-control-allow-headers"].lower()
        refused = preflight(client, cors, FOREIGN)
        assert "access-control-allow-origin" not in refused.headers
        answered = client.post(cors.http_url, json={"query": "{ hello }"}, headers={"origin": ALLOWED})
        assert answered.headers["access-control-allow-origin"] == ALLOWED
        assert answered.json() == {"data": {"hello": "Hello, world!"}}


def test_no_cors_headers_when_unconfigured(server: LiveServer, client: httpx.Client) -> None:
    response = preflight(client, server, ALLOWED)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert not any(name.startswith("access-control-") for name in response.headers)
    answered = client.post(server.http_url, json={"query": "{ hello }"}, headers={"origin": ALLOWED})
    assert not any(name.startswith("access-control-") for name in answered.headers)


@pytest.mark.parametrize(
    ("origin", "normal"),
    [
        ("HTTPS://App.Example.com:443", "https://app.example.com"),
        ("http://app.example.com:80", "http://app.example.com"),
        ("http://app.example.com:8080", "http://app.example.com:8080"),
        ("http://[::1]:80", "http://[::1]"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("null", None),
        ("ftp://app.example.com", None),
        ("https://app.example.com/path", None),
        ("https://user@app.example.com", None),
        ("https://app.example.com:https", None),
        ("http://[::1", None),
    ],
)
def test_origins_are_compared_normalised(origin: str, normal: str | None) -> None:
    assert normalise(origin) == normal
