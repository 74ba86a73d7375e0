"""GraphQL over HTTP end to end: methods, media types, status codes, operation selection, malformed input."""

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from graphql import GraphQLResolveInfo

from tests.support.schema import make_resolvers
from tests.support.server import LiveServer
from tests.transport.http_helpers import (
    ADD,
    GR,
    JSON,
    PREFLIGHT,
    PUBLISH,
    TWO_OPERATIONS,
    assert_error_response,
    get,
    media_of,
    post,
    start,
)

# --- the happy paths ---------------------------------------------------------------------------------


def test_post_json_runs_a_query(live: LiveServer, client: httpx.Client) -> None:
    response = post(client, live, {"query": ADD, "variables": {"a": 2, "b": 3}}, accept=JSON)
    assert response.status_code == HTTPStatus.OK
    assert media_of(response) == JSON
    assert response.json() == {"data": {"add": 5}}


def test_post_with_graphql_response_accept_gets_that_media_type(live: LiveServer, client: httpx.Client) -> None:
    response = post(client, live, {"query": "{ hello }"}, accept=f"{GR}, {JSON}")
    assert response.status_code == HTTPStatus.OK
    assert response.headers["content-type"] == f"{GR}; charset=utf-8"
    assert response.json() == {"data": {"hello": "Hello, world!"}}


@pytest.mark.parametrize("accept", [None, "*/*", "application/*"])
def test_no_accept_header_or_a_wildcard_gets_application_json(
    live: LiveServer, client: httpx.Client, accept: str | None
) -> None:
    response = post(client, live, {"query": "{ nope }"}, accept=accept)
    assert response.request.headers.get("accept") == accept
    # The legacy rules apply: a validation error is still 200.
    assert assert_error_response(response, HTTPStatus.OK, JSON).startswith("Cannot query field 'nope'")


def test_get_runs_a_query_with_json_encoded_variables(live: LiveServer, client: httpx.Client) -> None:
    response = get(client, live, {"query": ADD, "variables": '{"a": 40, "b": 2}'}, accept=GR)
    assert response.status_code == HTTPStatus.OK
    assert media_of(response) == GR
    assert response.json() == {"data": {"add": 42}}


def test_charset_in_content_type_is_accepted(live: LiveServer, client: httpx.Client) -> None:
    response = post(client, live, {"query": '{ hello(name: "Zoë") }'}, content_type=f"{JSON}; charset=utf-8")
    assert response.json() == {"data": {"hello": "Hello, Zoë!"}}


# --- mutations: POST only ----------------------------------------------------------------------------


PUBLISHED: list[tuple[str, str]] = []


@pytest.fixture
def publishes() -> list[tuple[str, str]]:
    """What `publish` ran with on recording_server during this test."""
    PUBLISHED.clear()
    return PUBLISHED


@pytest.fixture(scope="module")
def recording_server() -> Iterator[LiveServer]:
    """The test schema, with `publish` recording its calls so a test can tell whether it executed."""
    resolvers = make_resolvers()

    def publish(_: Any, __: GraphQLResolveInfo, topic: str, text: str) -> bool:
        PUBLISHED.append((topic, text))
        return True

    resolvers["Mutation"]["publish"] = publish
    with start(resolvers=resolvers) as recording:
        yield recording


def test_post_runs_a_mutation(
    recording_server: LiveServer, client: httpx.Client, publishes: list[tuple[str, str]]
) -> None:
    response = post(client, recording_server, {"query": PUBLISH}, accept=GR)
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"data": {"publish": True}}
    assert publishes == [("t", "hi")]


@pytest.mark.parametrize("accept", [GR, JSON, None])
def test_a_mutation_over_get_is_405_allow_post_and_never_executes(
    recording_server: LiveServer,
    client: httpx.Client,
    publishes: list[tuple[str, str]],
    accept: str | None,
) -> None:
    response = get(client, recording_server, {"query": PUBLISH}, accept=accept)
    assert_error_response(response, HTTPStatus.METHOD_NOT_ALLOWED, accept or JSON)
    assert response.headers["allow"] == "POST"
    assert publishes == []


def test_get_may_select_the_query_of_a_document_that_also_holds_a_mutation(
    recording_server: LiveServer, client: httpx.Client, publishes: list[tuple[str, str]]
) -> None:
    response = get(client, recording_server, {"query": TWO_OPERATIONS, "operationName": "B"})
    assert response.json() == {"data": {"add": 3}}
    response = get(client, recording_server, {"query": TWO_OPERATIONS, "operationName": "M"})
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert publishes == []


# --- operation selection -----------------------------------------------------------------------------


def test_operation_name_selects_among_several_operations(live: LiveServer, client: httpx.Client) -> None:
    first = post(client, live, {"query": TWO_OPERATIONS, "operationName": "A"})
    second = post(client, live, {"query": TWO_OPERATIONS, "operationName": "B"})
    assert first.json() == {"data": {"hello": "Hello, world!"}}
    assert second.json() == {"data": {"add": 3}}


@pytest.mark.parametrize(
    ("operation_name", "expected"),
    [
        (None, "Must provide operation name if query contains multiple operations."),
        ("C", "Unknown operation named 'C'."),
    ],
)
@pytest.mark.parametrize(("accept", "status"), [(GR, HTTPStatus.BAD_REQUEST), (JSON, HTTPStatus.OK)])
def test_an_operation_that_cannot_be_determined_is_a_request_error(
    *,
    live: LiveServer,
    client: httpx.Client,
    operation_name: str | None,
    expected: str,
    accept: str,
    status: HTTPStatus,
) -> None:
    response = post(client, live, {"query": TWO_OPERATIONS, "operationName": operation_name}, accept=accept)
    assert assert_error_response(response, status, accept) == expected


# --- request errors: 400 for graphql-response+json, 200 for application/json -------------------------

REQUEST_ERRORS = [
    pytest.param({"query": "{"}, "Syntax Error", id="does-not-parse"),
    pytest.param({"query": "{ nope }"}, "Cannot query field 'nope'", id="does-not-validate"),
    # Worded differently by graphql-core 3.2 ("argument 'b'") and 3.3 ("Query.add(b:)"): the common part.
    pytest.param({"query": "{ add(a: 1) }"}, "of type 'Int!' is required", id="missing-argument"),
    pytest.param({"query": ADD, "variables": {"a": "x", "b": 1}}, "Variable '$a'", id="variable-type"),
    pytest.param({"query": ADD, "variables": {"a": 1}}, "Variable '$b'", id="variable-missing"),
    pytest.param({"query": ADD}, "Variable '$a'", id="variables-absent"),
]


@pytest.mark.parametrize(("payload", "fragment"), REQUEST_ERRORS)
def test_request_errors_with_graphql_response_json_are_400(
    live: LiveServer, client: httpx.Client, payload: dict[str, Any], fragment: str
) -> None:
    response = post(client, live, payload, accept=GR)
    assert fragment in assert_error_response(response, HTTPStatus.BAD_REQUEST, GR)


@pytest.mark.parametrize("accept", [JSON, None])
@pytest.mark.parametrize(("payload", "fragment"), REQUEST_ERRORS)
def test_request_errors_with_application_json_are_200_without_data(
    live: LiveServer, client: httpx.Client, payload: dict[str, Any], fragment: str, accept: str | None
) -> None:
    response = post(client, live, payload, accept=accept)
    assert fragment in assert_error_response(response, HTTPStatus.OK, JSON)


def test_request_errors_carry_locations(live: LiveServer, client: httpx.Client) -> None:
    response = post(client, live, {"query": "{\n  nope\n}"}, accept=GR)
    assert response.json()["errors"][0]["locations"] == [{"line": 2, "column": 3}]


# --- requests that are not well-formed GraphQL-over-HTTP requests: 4xx with a GraphQL error body ------

BAD, UNSUPPORTED = HTTPStatus.BAD_REQUEST, HTTPStatus.UNSUPPORTED_MEDIA_TYPE
MALFORMED_POSTS = [
    pytest.param(b"NONSENSE", JSON, BAD, id="not-json"),
    pytest.param(b'{"query":', JSON, BAD, id="truncated-json"),
    pytest.param(b"", JSON, BAD, id="empty-body"),
    pytest.param(b'{"query": "{ hello }\xff"}', JSON, BAD, id="not-utf8"),
    pytest.param(b'[{"query": "{ hello }"}]', JSON, BAD, id="batch"),
    pytest.param(b'{"qeury": "{ hello }"}', JSON, BAD, id="missing-query"),
    pytest.param(b'{"query": ""}', JSON, BAD, id="empty-query"),
    pytest.param(b'{"query": 7}', JSON, BAD, id="query-not-string"),
    pytest.param(b'{"query": "{ hello }", "variables": [7]}', JSON, BAD, id="variables-list"),
    pytest.param(b'{"query": "{ hello }", "variables": "{}"}', JSON, BAD, id="variables-string"),
    pytest.param(b'{"query": "{ hello }", "operationName": 1}', JSON, BAD, id="operation-name-int"),
    pytest.param(b'{"query": "{ hello }", "extensions": 1}', JSON, BAD, id="extensions-int"),
    pytest.param(b'{"query": "{ hello }"}', "text/plain", UNSUPPORTED, id="text-plain"),
    pytest.param(b"query=%7B+hello+%7D", "application/x-www-form-urlencoded", UNSUPPORTED, id="form"),
    pytest.param(b'{"query": "{ hello }"}', None, UNSUPPORTED, id="no-content-type"),
    pytest.param(b'{"query": "{ hello }"}', f"{JSON}; charset=utf-16", UNSUPPORTED, id="not-utf8-charset"),
]


@pytest.mark.parametrize("accept", [GR, JSON])
@pytest.mark.parametrize(("raw", "content_type", "status"), MALFORMED_POSTS)
def test_malformed_posts_are_4xx_with_a_graphql_error(
    *,
    live: LiveServer,
    client: httpx.Client,
    raw: bytes,
    content_type: str | None,
    status: HTTPStatus,
    accept: str,
) -> None:
    # The preflight header gets the simple content types past CSRF prevention (tests/security) to the 415.
    response = post(client, live, raw, accept=accept, content_type=content_type, headers=PREFLIGHT)
    assert_error_response(response, status, accept)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="no-query"),
        pytest.param({"query": ""}, id="empty-query"),
        pytest.param({"query": "{ hello }", "variables": "{nope"}, id="variables-not-json"),
        pytest.param({"query": "{ hello }", "variables": "[1]"}, id="variables-not-object"),
        pytest.param({"query": "{ hello }", "extensions": "[]"}, id="extensions-not-object"),
    ],
)
@pytest.mark.parametrize("accept", [GR, JSON])
def test_malformed_gets_are_400_with_a_graphql_error(
    live: LiveServer, client: httpx.Client, params: dict[str, str], accept: str
) -> None:
    assert_error_response(get(client, live, params, accept=accept), HTTPStatus.BAD_REQUEST, accept)


# --- methods, Accept and sizes -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["OPTIONS", "PATCH"])
def test_other_methods_are_405_allowing_get_and_post(live: LiveServer, client: httpx.Client, method: str) -> None:
    # PUT and DELETE belong to SSE's single connection mode (tests/transport/test_sse.py), unless it is off.
    # The method is checked first: an Accept nothing could satisfy does not turn this into a 406.
    response = client.request(method, live.http_url, content=b'{"query": "{ hello }"}', headers={"accept": "text/html"})
    message = assert_error_response(response, HTTPStatus.METHOD_NOT_ALLOWED)
    assert method in message
    assert response.headers["allow"] == "GET, POST"


def test_head_is_405_allowing_get_and_post_without_a_body(live: LiveServer, client: httpx.Client) -> None:
    response = client.head(live.http_url, params={"query": "{ hello }"})
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.headers["allow"] == "GET, POST"
    assert response.content == b""


@pytest.mark.parametrize("accept", ["text/html", "application/xml", f"{JSON};q=0, {GR};q=0", f"{JSON};q=0, text/*"])
def test_unacceptable_accept_is_406_and_nothing_runs(
    recording_server: LiveServer, client: httpx.Client, publishes: list[tuple[str, str]], accept: str
) -> None:
    response = post(client, recording_server, {"query": PUBLISH}, accept=accept)
    assert "application/graphql-response+json" in assert_error_response(response, HTTPStatus.NOT_ACCEPTABLE)
    assert publishes == []


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_put_and_delete_are_405_when_sse_is_off(client: httpx.Client, method: str) -> None:
    with start(sse_protocol=False) as live:
        response = client.request(method, live.http_url, headers={"accept": "application/json"})
    assert_error_response(response, HTTPStatus.METHOD_NOT_ALLOWED)
    assert response.headers["allow"] == "GET, POST"
