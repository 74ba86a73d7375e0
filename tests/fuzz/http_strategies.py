"""Hypothesis strategies for the HTTP transports: requests (method, query string, headers, body) each with the
statuses the GraphQL-over-HTTP, graphql-sse or Apollo multipart spec allows for it (None: any non-5xx)."""

import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from hypothesis import strategies as st

from tests.fuzz.values import JSON, NON_STRINGS, OBJECTS, ending_request, held_request, mutated

GRAPHQL_RESPONSE: Final = "application/graphql-response+json"
EVENT_STREAM: Final = "text/event-stream"
MULTIPART: Final = 'multipart/mixed;subscriptionSpec="1.0", application/json'
PREFLIGHT: Final = ("graphql-require-preflight", "1")
JSON_TYPE: Final = ("content-type", "application/json")
BODY_LIMIT: Final = 16 * 1024  # the fuzz app's max_body_bytes
REQUEST_ERRORS: Final = frozenset({400, 405, 406, 413, 415})

# Field values as HTTP allows them: visible ASCII and inner spaces (RFC 9110 section 5.5).
HEADER_TEXT: Final = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(str.strip)
ACCEPTS: Final = st.sampled_from((
    "application/json", GRAPHQL_RESPONSE, "*/*", f"{GRAPHQL_RESPONSE}, application/json;q=0.9", "image/png",
    "application/json;q=0", "text/*", "application/*", EVENT_STREAM, MULTIPART, "multipart/mixed",
    f"{EVENT_STREAM};q=0.5, application/json", "application/json;q=1.0001", ";;,,", "",
)) | HEADER_TEXT  # fmt: skip
CONTENT_TYPES: Final = st.sampled_from((
    "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1", "APPLICATION/JSON",
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/graphql", "",
)) | HEADER_TEXT  # fmt: skip
METHODS: Final = st.sampled_from(("GET", "POST", "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"))


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request to the GraphQL path, and what a conforming server may answer."""

    method: str
    query_string: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    expect: frozenset[int] | None = None  # allowed statuses; None: anything but a 5xx
    held: bool = False  # a stream that would stay open: read its first bytes, then leave
    ok_data: bool = False  # a sound query: a 200 must carry `data` and no `errors`


def _body(request: Any) -> bytes:
    return json.dumps(request).encode()


@st.composite
def sound_post(draw: st.DrawFn) -> Request:
    """A well-formed POST of a query that runs: 200 with data, whichever JSON type is asked for."""
    accept = draw(st.sampled_from(("application/json", GRAPHQL_RESPONSE, "*/*", "")))
    query = draw(st.sampled_from(("{ hello }", '{ hello(name: "x") add(a: 2, b: 3) }', "query { __typename }")))
    headers = (JSON_TYPE, ("accept", accept)) if accept else (JSON_TYPE,)
    return Request("POST", "", headers, _body({"query": query}), frozenset({200}), ok_data=True)


@st.composite
def broken_request(draw: st.DrawFn) -> Request:
    """A request the GraphQL-over-HTTP spec refuses, with the status it names for that defect."""
    accept = ("accept", draw(st.sampled_from(("application/json", GRAPHQL_RESPONSE))))
    defect = draw(st.integers(0, 9))
    good = _body({"query": "{ hello }"})
    if defect == 0:  # not GET or POST: 405 (PUT and DELETE belong to graphql-sse's single connection mode)
        method = draw(st.sampled_from(("PATCH", "OPTIONS", "HEAD", "TRACE")))
        return Request(method, "", (JSON_TYPE, accept), good, frozenset({405}))
    if defect == 1:  # a content type other than JSON: 415 (or 400, the CSRF refusal, for a "simple" one)
        kind = draw(st.sampled_from(("text/plain", "application/graphql", "application/xml", "multipart/form-data")))
        return Request("POST", "", (("content-type", kind), accept), good, frozenset({400, 415}))
    if defect == 2:  # a body that is not JSON: 400
        body = draw(st.binary(max_size=60).filter(_not_json) | st.sampled_from((b"", b"{", b'{"query":')))
        return Request("POST", "", (JSON_TYPE, accept), body, frozenset({400}))
    if defect == 3:  # JSON that is not a request: 400
        value = draw(NON_STRINGS | st.builds(lambda o: {"query": o}, NON_STRINGS) | st.just({}))
        return Request("POST", "", (JSON_TYPE, accept), _body(value), frozenset({400}))
    if defect == 4:  # a body over the limit: 413
        body = _body({"query": "{ hello }", "x": "x" * BODY_LIMIT})
        return Request("POST", "", (JSON_TYPE, accept), body, frozenset({413}))
    if defect == 5:  # nothing acceptable: 406
        kind = draw(st.sampled_from(("image/png", "application/json;q=0", "text/html", "application/xml")))
        return Request("POST", "", (JSON_TYPE, ("accept", kind)), good, frozenset({406}))
    if defect == 6:  # a mutation over GET: 405
        query = urlencode({"query": 'mutation { publish(topic: "fuzz-void", text: "x") }'})
        return Request("GET", query, (PREFLIGHT, accept), None, frozenset({405}))
    if defect == 7:  # a GET a cross-site page could send (no preflight-forcing header): 400
        return Request("GET", urlencode({"query": "{ hello }"}), (accept,), None, frozenset({400}))
    if defect == 8:  # a document that does not parse or validate: 400 as graphql-response+json, 200 as JSON
        query = draw(st.sampled_from(("{", "{ nope }", "subscription { count(to: 1) }", "{ " + "a: hello " * 40 + "}")))
        status = 400 if accept[1] == GRAPHQL_RESPONSE else 200
        return Request("POST", "", (JSON_TYPE, accept), _body({"query": query}), frozenset({status}))
    variables = draw(st.sampled_from(("{", "[]", "1", '"x"')))  # GET variables that are not a JSON object
    query = urlencode({"query": "{ hello }", "variables": variables})
    return Request("GET", query, (PREFLIGHT, accept), None, frozenset({400}))


def _not_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return True
    return False


@st.composite
def random_request(draw: st.DrawFn) -> Request:
    """Anything: random method, query string, headers and body, sometimes built from a mutated request."""
    method = draw(METHODS)
    headers: list[tuple[str, str]] = []
    for name, values in (("accept", ACCEPTS), ("content-type", CONTENT_TYPES)):
        if draw(st.integers(0, 4)) > 0:
            headers.append((name, draw(values)))
    if draw(st.booleans()):
        headers.append(PREFLIGHT)
    if draw(st.integers(0, 5)) == 0:
        headers.append(("origin", draw(st.sampled_from(("https://evil.example", "null", "http://127.0.0.1")))))
    if draw(st.integers(0, 5)) == 0:
        headers.append(("last-event-id", draw(HEADER_TEXT)))
    held = draw(st.integers(0, 3)) == 0
    request = draw(held_request() if held else ending_request())
    if draw(st.integers(0, 3)) == 0:
        request = draw(mutated(request))
    query_string = ""
    if method == "GET" or draw(st.integers(0, 4)) == 0:
        params = {key: value if isinstance(value, str) else json.dumps(value) for key, value in _fields(request)}
        if draw(st.integers(0, 4)) == 0:
            params[draw(st.sampled_from(("token", "operationId", "x")))] = draw(HEADER_TEXT)
        query_string = urlencode(params)
    body = None
    if method != "GET":
        body = draw(st.sampled_from((_body(request), b"", b"{")) | st.binary(max_size=30) | JSON.map(_body))
    return Request(method, query_string, tuple(headers), body, held=held)


def _fields(request: Any) -> list[tuple[str, Any]]:
    return list(request.items()) if isinstance(request, dict) else [("query", request)]


def http_requests() -> st.SearchStrategy[list[Request]]:
    """One hypothesis example: a few requests sent at once."""
    one = st.one_of(sound_post(), broken_request(), random_request(), random_request())
    return st.lists(one, min_size=1, max_size=6)


@st.composite
def stream_request(draw: st.DrawFn, accept: str) -> Request:
    """A streaming operation (SSE distinct mode or multipart): sound or failing, ending or held, sometimes
    resuming from a random Last-Event-ID."""
    held = draw(st.integers(0, 3)) == 0
    request = draw(held_request() if held else ending_request())
    if draw(st.integers(0, 5)) == 0:
        request = draw(mutated(request))
    headers = [JSON_TYPE, ("accept", accept)]
    if draw(st.integers(0, 3)) == 0:
        headers.append(("last-event-id", draw(HEADER_TEXT | st.sampled_from(("0", "1-0", "999999", "-1")))))
    if draw(st.integers(0, 5)) == 0:
        extensions = {"resumeAfter": draw(NON_STRINGS | HEADER_TEXT)}
        if isinstance(request, dict):
            request = {**request, "extensions": extensions}
    method = "POST"
    query_string = ""
    if draw(st.integers(0, 4)) == 0 and isinstance(request, dict):
        method, headers = "GET", [("accept", accept), PREFLIGHT]
        query_string = urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in request.items()})
    body = _body(request) if method == "POST" else None
    return Request(method, query_string, tuple(headers), body, held=held)


def stream_requests(accept: str) -> st.SearchStrategy[list[Request]]:
    """One hypothesis example: a few streaming requests sent at once, and some JSON objects that are no
    request (no `query`), refused before any stream starts (400)."""
    no_query = st.builds(
        lambda value: Request("POST", "", (JSON_TYPE, ("accept", accept)), _body(value), NO_QUERY), OBJECTS
    )
    return st.lists(st.one_of(stream_request(accept), stream_request(accept), no_query), min_size=1, max_size=6)


NO_QUERY: Final = frozenset({400})
