"""GraphQL over HTTP end to end: size limits, error masking, context, document cache, and fuzzing."""

import logging
import random
import socket
import threading
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from graphql import DocumentNode, parse
from starlette.requests import HTTPConnection, Request

from livegql.core import json
from livegql.transport.answer import Answer
from livegql.transport.http import HTTPEndpoint, StreamPlan
from tests.support.server import LiveServer
from tests.transport.http_helpers import (
    ADD,
    GR,
    JSON,
    PUBLISH,
    SECRET,
    TWO_OPERATIONS,
    assert_error_response,
    get,
    post,
    start,
)

LIMIT = 1024


@pytest.fixture(scope="module")
def small_server() -> Iterator[LiveServer]:
    with start(max_body_bytes=LIMIT, max_query_bytes=200) as small:
        yield small


def padded(size: int) -> bytes:
    """A valid request body of exactly `size` bytes (JSON allows trailing whitespace)."""
    raw = json.dumps_bytes({"query": "{ hello }"})
    return raw + b" " * (size - len(raw))


def test_a_body_of_exactly_the_limit_is_served(small_server: LiveServer, client: httpx.Client) -> None:
    response = post(client, small_server, padded(LIMIT))
    assert response.json() == {"data": {"hello": "Hello, world!"}}


@pytest.mark.parametrize("accept", [GR, JSON])
def test_a_declared_content_length_over_the_limit_is_413(
    small_server: LiveServer, client: httpx.Client, accept: str
) -> None:
    response = post(client, small_server, padded(LIMIT + 1), accept=accept)
    assert response.request.headers["content-length"] == str(LIMIT + 1)
    assert f"{LIMIT} bytes" in assert_error_response(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, accept)


def test_a_declared_content_length_is_refused_before_the_body_is_sent(small_server: LiveServer) -> None:
    """Only headers go out; a server that waited for the body to count it would time out here."""
    head = (
        f"POST {small_server.app.settings.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: {JSON}\r\nContent-Length: {100 * LIMIT}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=5.0) as sock:
        sock.sendall(head.encode("ascii"))
        status_line = sock.makefile("rb").readline()
    assert status_line.startswith(b"HTTP/1.1 413 ")


def test_a_client_that_disconnects_mid_body_gets_a_400_not_a_crash(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes: list[int] = []
    answered = threading.Event()
    respond = HTTPEndpoint.respond

    async def recording(self: HTTPEndpoint, request: Request) -> Answer | StreamPlan:
        response = await respond(self, request)
        assert isinstance(response, Answer)
        outcomes.append(response.status_code)
        answered.set()
        return response

    monkeypatch.setattr(HTTPEndpoint, "respond", recording)
    head = f"POST {live.app.settings.path} HTTP/1.1\r\nHost: x\r\nContent-Type: {JSON}\r\nContent-Length: 500\r\n\r\n"
    with socket.create_connection(("127.0.0.1", live.port), timeout=5.0) as sock:
        sock.sendall(head.encode("ascii") + b'{"query": ')
    assert answered.wait(5.0)
    assert outcomes == [HTTPStatus.BAD_REQUEST]


def test_a_chunked_body_over_the_limit_is_413(small_server: LiveServer, client: httpx.Client) -> None:
    whole = padded(4 * LIMIT)

    def chunks() -> Iterator[bytes]:
        for start_at in range(0, len(whole), 256):
            yield whole[start_at : start_at + 256]

    response = client.post(small_server.http_url, content=chunks(), headers={"content-type": JSON})
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert_error_response(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def test_a_chunked_body_within_the_limit_is_served(small_server: LiveServer, client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": '
        yield b'"{ hello }"}'

    response = client.post(small_server.http_url, content=chunks(), headers={"content-type": JSON})
    assert response.json() == {"data": {"hello": "Hello, world!"}}


def test_query_text_over_max_query_bytes_is_413(small_server: LiveServer, client: httpx.Client) -> None:
    cache = small_server.app.runtime.executor.documents
    cached = len(cache)
    query = "{ hello " + "#" * 300 + "\n}"
    assert_error_response(get(client, small_server, {"query": query}), HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    assert len(cache) == cached  # refused before parsing


# --- errors from resolvers: masked and logged, unless debug --------------------------------------------


def masked_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "livegql.errors"
        and record.exc_info is not None
        and isinstance(record.exc_info[1], RuntimeError)
        and str(record.exc_info[1]) == SECRET
    ]


@pytest.mark.parametrize("accept", [GR, JSON])
def test_resolver_exceptions_are_masked_and_logged(
    live: LiveServer, client: httpx.Client, caplog: pytest.LogCaptureFixture, accept: str
) -> None:
    caplog.set_level(logging.ERROR, logger="livegql.errors")
    response = post(client, live, {"query": "{ boom hello }"}, accept=accept)
    # A field error is a partial response: 200 even for graphql-response+json.
    assert response.status_code == HTTPStatus.OK
    assert SECRET not in response.text
    payload = response.json()
    assert payload["data"] == {"boom": None, "hello": "Hello, world!"}
    [error] = payload["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert error["path"] == ["boom"]
    [record] = masked_records(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[2] is not None  # the traceback is logged


def test_debug_shows_resolver_exception_messages(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="livegql.errors")
    with start(debug=True) as debug_server:
        response = post(client, debug_server, {"query": "{ boom }"})
    [error] = response.json()["errors"]
    assert error["message"] == SECRET
    assert error["path"] == ["boom"]
    assert len(masked_records(caplog)) == 1


def test_a_failing_context_factory_is_a_masked_500_with_a_graphql_body(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="livegql.http")

    def context(_: HTTPConnection) -> dict[str, Any]:
        raise RuntimeError(SECRET)

    with start(context=context) as live:
        response = post(client, live, {"query": "{ whoami }"}, accept=GR)
    assert assert_error_response(response, HTTPStatus.INTERNAL_SERVER_ERROR, GR) == "Internal server error"
    assert SECRET not in response.text
    assert any(
        record.name == "livegql.http" and record.exc_info is not None and str(record.exc_info[1]) == SECRET
        for record in caplog.records
    )


# --- subscriptions, context and the document cache ---------------------------------------------------


@pytest.mark.parametrize(("accept", "status"), [(GR, HTTPStatus.BAD_REQUEST), (JSON, HTTPStatus.OK)])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_subscriptions_over_plain_http_are_refused_clearly(
    live: LiveServer, client: httpx.Client, accept: str, status: HTTPStatus, method: str
) -> None:
    query = "subscription { count(to: 2) }"
    if method == "GET":
        response = get(client, live, {"query": query}, accept=accept)
    else:
        response = post(client, live, {"query": query}, accept=accept)
    assert "WebSocket" in assert_error_response(response, status, accept)


def test_the_context_factory_reaches_resolvers(client: httpx.Client) -> None:
    def context(request: HTTPConnection) -> dict[str, Any]:
        return {"user": request.headers.get("x-user")}

    with start(context=context) as live:
        alice = post(client, live, {"query": "{ whoami }"}, headers={"x-user": "alice"})
        bob = get(client, live, {"query": "{ whoami }"})
        anonymous = post(client, live, {"query": "{ whoami }"})
    assert alice.json() == {"data": {"whoami": "alice"}}
    assert bob.json() == {"data": {"whoami": None}}
    assert anonymous.json() == {"data": {"whoami": None}}


def test_the_same_query_twice_is_parsed_once(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []

    def counting_parse(source: str, *args: Any, **kwargs: Any) -> DocumentNode:
        parsed.append(source)
        return parse(source, *args, **kwargs)

    monkeypatch.setattr("livegql.engine.documents.parse", counting_parse)
    with start() as fresh:
        cache = fresh.app.runtime.executor.documents
        first = post(client, fresh, {"query": ADD, "variables": {"a": 1, "b": 2}})
        second = get(client, fresh, {"query": ADD, "variables": '{"a": 3, "b": 4}'})
        assert (first.json(), second.json()) == ({"data": {"add": 3}}, {"data": {"add": 7}})
        assert parsed == [ADD]
        assert len(cache) == 1
        # Failures are cached too: a broken document is parsed once, however often it is sent.
        for _ in range(2):
            assert "Syntax Error" in post(client, fresh, {"query": "{"}).json()["errors"][0]["message"]
        assert parsed == [ADD, "{"]
        assert len(cache) == 2


# --- fuzz: nothing a client sends is a 500 -----------------------------------------------------------

FUZZ_QUERIES = ["{ hello }", "{", "{ boom }", "{ nope }", ADD, PUBLISH, TWO_OPERATIONS, "subscription { failing }", ""]
FUZZ_VALUES: list[object] = [None, 0, -1, 2**63 - 1, 1.5, "", "x", [], [1], {}, {"a": 1}, True]


def fuzz_request(rng: random.Random) -> tuple[str, str, dict[str, str], bytes]:
    """(method, query string, headers, body): a mix of near-valid requests and noise."""
    headers = {}
    if rng.random() < 0.7:
        headers["accept"] = rng.choice([GR, JSON, "*/*", "text/html", f"{GR};q=0", "", ";;,", "a/b;q=2"])
    if rng.random() < 0.8:
        headers["content-type"] = rng.choice([JSON, f"{JSON}; charset=latin1", "text/plain", "", "/;="])
    if rng.random() < 0.5:
        fields = {
            key: rng.choice([*FUZZ_QUERIES, *FUZZ_VALUES])
            for key in rng.sample(["query", "variables", "operationName", "extensions", "x"], rng.randint(0, 5))
        }
        body = json.dumps_bytes(fields)
    else:
        body = rng.randbytes(rng.randint(0, 64))
    alphabet = "abcdefghijklmnopqrstuvwxyz{}[]()$:!@\"', =&%+0123456789"
    if rng.random() < 0.5:
        fields_qs = {key: str(rng.choice([*FUZZ_QUERIES, *FUZZ_VALUES])) for key in ("query", "variables")}
        query_string = str(httpx.QueryParams(fields_qs))
    else:
        query_string = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        query_string += rng.choice(["", "%ff%fe", "%", "%zz", "query=%7B", "&&=="])
    method = rng.choice(["GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"])
    return method, query_string, headers, body


def test_two_hundred_random_requests_never_get_a_5xx(live: LiveServer, client: httpx.Client) -> None:
    rng = random.Random(20240601)
    statuses: set[int] = set()
    for _ in range(200):
        method, query_string, headers, body = fuzz_request(rng)
        url = httpx.URL(live.http_url, query=query_string.encode("ascii"))
        response = client.request(method, url, headers=headers, content=body if method != "GET" else None)
        context = f"{method} ?{query_string} {headers} {body!r}"
        assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, context
        statuses.add(response.status_code)
        if method == "PUT" and response.status_code == HTTPStatus.CREATED:
            assert len(response.text) >= 32, context  # an SSE single connection reservation's token
        elif method != "HEAD":
            payload = response.json()
            assert "errors" in payload or "data" in payload, context
    # The mix reached execution as well as every kind of refusal.
    assert {200, 400, 405, 406, 415} <= statuses
