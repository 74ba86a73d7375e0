"""GraphQL over HTTP as pure functions: negotiation, request parameters, status rules (no server here)."""

from http import HTTPStatus
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livegql.core import json
from livegql.protocol.http import (
    BadRequest,
    GraphQLParams,
    MediaType,
    body_too_large,
    check_method,
    check_query_size,
    content_type,
    error_body,
    mutation_over_get,
    negotiate,
    not_acceptable,
    params_from_body,
    params_from_query_string,
    prefers_over_json,
    request_error_status,
)

GR = MediaType.GRAPHQL_RESPONSE
JSON = MediaType.JSON


def body(value: object) -> bytes:
    return json.dumps_bytes(value)


def outcome(call: Any, *args: Any) -> GraphQLParams | BadRequest:
    """The parameters, or the BadRequest raised; any other exception fails the test."""
    try:
        params: GraphQLParams = call(*args)
    except BadRequest as problem:
        return problem
    return params


def bad_request(call: Any, *args: Any) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        call(*args)
    return caught.value


# --- negotiate ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # Spec, legacy watershed: no Accept header is treated as application/json.
        (None, JSON),
        ("", JSON),
        ("   ", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GR),
        # The header the spec recommends to clients: both exact, the modern type wins.
        ("application/graphql-response+json; charset=utf-8, application/json; charset=utf-8", GR),
        ("application/json, application/graphql-response+json", GR),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", GR),
        # Quality decides before anything else.
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/graphql-response+json, application/json;q=0.9", GR),
        ("application/json;q=0.1, application/graphql-response+json;q=0.2", GR),
        # Wildcards alone get application/json, what legacy clients (curl's */*) expect.
        ("*/*", JSON),
        ("application/*", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        # An exact mention beats a wildcard at equal quality.
        ("application/graphql-response+json, */*", GR),
        ("application/json, */*", JSON),
        # The most specific range sets a type's quality (RFC 7231 5.3.2): JSON is refused here.
        ("application/json;q=0, */*", GR),
        ("application/graphql-response+json;q=0, application/*", JSON),
        ("application/graphql-response+json;q=0.5, */*", JSON),
        # q is read only from a well-formed qvalue; parameters after it are extensions.
        ("application/json;q=1.000", JSON),
        ("application/json; q=0.001", JSON),
        ("application/json;q=1;foo=0", JSON),
    ],
)
def test_negotiate_picks_the_highest_priority_supported_type(accept: str | None, expected: MediaType) -> None:
    assert negotiate(accept) is expected


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "image/*",
        "application/xml, text/plain;q=0.5",
        "application/json;q=0, application/graphql-response+json;q=0",
        "*/*;q=0",
        "application/json;q=1.5",  # not a qvalue: the range says nothing
        "application/json;q=abc",
        "application/json;q=-1",
        "application/json;q=nan",
        "*/json",
        "json",
        ",",
        "/",
    ],
)
def test_negotiate_returns_none_when_nothing_supported_is_acceptable(accept: str) -> None:
    assert negotiate(accept) is None


@given(st.text())
def test_negotiate_never_raises(accept: str) -> None:
    assert negotiate(accept) in (None, *MediaType)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["application/json", "application/graphql-response+json", "*/*", "application/*"]),
            st.sampled_from(["", ";q=0", ";q=0.5", ";q=1", ";q=x", "; charset=utf-8"]),
        ),
        max_size=6,
    )
)
def test_negotiate_result_is_always_acceptable(ranges: list[tuple[str, str]]) -> None:
    """What is picked is allowed by its most specific valid range; None means neither type is."""
    header = ", ".join(media + parameters for media, parameters in ranges)
    valid = [(media, parameters) for media, parameters in ranges if parameters != ";q=x"]

    def allowed(media: MediaType) -> bool:
        for covering in (media.value, "application/*", "*/*"):
            qualities = [parameters != ";q=0" for name, parameters in valid if name == covering]
            if qualities:
                return any(qualities)
        return False

    picked = negotiate(header)
    if not header:
        assert picked is JSON
    elif picked is None:
        assert not any(allowed(media) for media in MediaType)
    else:
        assert allowed(picked)


# --- GET parameters ----------------------------------------------------------------------------------


def test_query_string_parameters_decode_json_variables_and_extensions() -> None:
    params = params_from_query_string(
        {
            "query": "query Q($a: Int!) { add(a: $a, b: 1) }",
            "variables": '{"a": 2}',
            "operationName": "Q",
            "extensions": '{"persisted": true}',
        }
    )
    assert params == GraphQLParams("query Q($a: Int!) { add(a: $a, b: 1) }", {"a": 2}, "Q", {"persisted": True})


def test_query_string_optional_parameters_may_be_absent_empty_or_null() -> None:
    expected = GraphQLParams("{ hello }", None, None, None)
    assert params_from_query_string({"query": "{ hello }"}) == expected
    # Spec, GET: an empty operationName is the same as omitting it.
    assert params_from_query_string({"query": "{ hello }", "operationName": ""}) == expected
    assert params_from_query_string({"query": "{ hello }", "variables": "", "extensions": ""}) == expected
    assert params_from_query_string({"query": "{ hello }", "variables": "null"}) == expected


def test_query_string_operation_name_null_is_the_name_null() -> None:
    # Spec, GET: operationName=null names an operation called "null".
    assert params_from_query_string({"query": "{ hello }", "operationName": "null"}).operation_name == "null"


@pytest.mark.parametrize(
    ("query_params", "fragment"),
    [
        ({}, "'query'"),
        ({"query": ""}, "'query'"),
        ({"query": "{ hello }", "variables": "{not json"}, "'variables' is not valid JSON"),
        ({"query": "{ hello }", "variables": "[7]"}, "'variables' must be an object"),
        ({"query": "{ hello }", "variables": '"text"'}, "'variables' must be an object"),
        ({"query": "{ hello }", "extensions": "{"}, "'extensions' is not valid JSON"),
        ({"query": "{ hello }", "extensions": "1"}, "'extensions' must be an object"),
    ],
)
def test_malformed_query_strings_are_400(query_params: dict[str, str], fragment: str) -> None:
    problem = bad_request(params_from_query_string, query_params)
    assert problem.status is HTTPStatus.BAD_REQUEST
    assert fragment in problem.message


# --- POST parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "media", ["application/json", "application/json; charset=utf-8", 'Application/JSON;charset="UTF-8"']
)
def test_post_body_is_a_json_object(media: str) -> None:
    params = params_from_body(
        media,
        body({"query": "{ hello }", "variables": {"x": 1}, "operationName": "A", "extensions": {"e": 1}}),
    )
    assert params == GraphQLParams("{ hello }", {"x": 1}, "A", {"e": 1})


def test_post_null_optional_parameters_equal_absent_ones() -> None:
    params = params_from_body(
        "application/json",
        body({"query": "{ hello }", "variables": None, "operationName": None, "extensions": None}),
    )
    assert params == GraphQLParams("{ hello }", None, None, None)


def test_post_unknown_keys_are_ignored_and_a_document_that_does_not_parse_is_still_well_formed() -> None:
    # Spec: so long as it is a string, query need not parse to be a well-formed request.
    params = params_from_body("application/json", body({"query": "{", "unknown": [1]}))
    assert params.query == "{"


@pytest.mark.parametrize(
    "media", [None, "", "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "json"]
)
def test_post_needs_application_json(media: str | None) -> None:
    problem = bad_request(params_from_body, media, body({"query": "{ hello }"}))
    assert problem.status is HTTPStatus.UNSUPPORTED_MEDIA_TYPE


def test_post_refuses_a_charset_other_than_utf8() -> None:
    problem = bad_request(params_from_body, "application/json; charset=latin-1", body({"query": "{ a }"}))
    assert problem.status is HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert "UTF-8" in problem.message


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"NONSENSE", "not valid JSON"),
        (b'{"query":', "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"query": "\xff"}', "not valid JSON"),  # not UTF-8
        (b"[]", "must be a JSON object"),
        (b'[{"query": "{ hello }"}]', "must be a JSON object"),  # no batching
        (b'"{ hello }"', "must be a JSON object"),
        (b'{"qeury": "{__typename}"}', "'query'"),
        (b'{"query": ""}', "'query'"),
        (b'{"query": null}', "'query'"),
        (b'{"query": 1}', "'query'"),
        (b'{"query": "query Q ($i:Int!) { q(i: $i) }", "variables": [7]}', "'variables'"),
        (b'{"query": "{ hello }", "variables": "{}"}', "'variables'"),
        (b'{"query": "{ hello }", "operationName": 1}', "'operationName'"),
        (b'{"query": "{ hello }", "operationName": ["A"]}', "'operationName'"),
        (b'{"query": "{ hello }", "extensions": []}', "'extensions'"),
    ],
)
def test_malformed_post_bodies_are_400(raw: bytes, fragment: str) -> None:
    problem = bad_request(params_from_body, "application/json", raw)
    assert problem.status is HTTPStatus.BAD_REQUEST
    assert fragment in problem.message


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=10,
)
request_shapes = st.fixed_dictionaries(
    {},
    optional={
        "query": json_values | st.sampled_from(["{ hello }", "{", ""]),
        "variables": json_values,
        "operationName": json_values,
        "extensions": json_values,
    },
)


@given(st.one_of(st.none(), st.text()), st.binary())
def test_params_from_arbitrary_bodies_raise_only_bad_request(media: str | None, raw: bytes) -> None:
    result = outcome(params_from_body, media, raw)
    if isinstance(result, BadRequest):
        assert result.status in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    else:
        assert isinstance(result.query, str)


@given(request_shapes | json_values)
def test_params_from_json_shaped_bodies_raise_only_bad_request(document: Any) -> None:
    result = outcome(params_from_body, "application/json", json.dumps_bytes(document))
    if isinstance(result, BadRequest):
        assert result.status is HTTPStatus.BAD_REQUEST
    else:
        assert isinstance(result.query, str)
        assert result.query
        assert result.variables is None or isinstance(result.variables, dict)
        assert result.operation_name is None or isinstance(result.operation_name, str)
        assert result.extensions is None or isinstance(result.extensions, dict)


@given(
    st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions", "other"]) | st.text(),
        st.text() | json_values.map(json.dumps),
    )
)
def test_params_from_arbitrary_query_strings_raise_only_bad_request(query_params: dict[str, str]) -> None:
    result = outcome(params_from_query_string, query_params)
    if isinstance(result, BadRequest):
        assert result.status is HTTPStatus.BAD_REQUEST
    else:
        assert result.query == query_params["query"]
        assert result.variables is None or isinstance(result.variables, dict)


# --- methods, sizes and status rules -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_get_and_post_are_allowed(method: str) -> None:
    check_method(method)


@pytest.mark.parametrize("method", ["HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "get", ""])
def test_other_methods_are_405_with_allow(method: str) -> None:
    problem = bad_request(check_method, method)
    assert problem.status is HTTPStatus.METHOD_NOT_ALLOWED
    assert problem.allow == "GET, POST"


def test_a_mutation_over_get_is_405_allowing_only_post() -> None:
    problem = mutation_over_get()
    assert problem.status is HTTPStatus.METHOD_NOT_ALLOWED
    assert problem.allow == "POST"


def test_not_acceptable_is_406_and_names_the_supported_types() -> None:
    problem = not_acceptable()
    assert problem.status is HTTPStatus.NOT_ACCEPTABLE
    assert "application/graphql-response+json" in problem.message
    assert "application/json" in problem.message
    assert problem.allow is None


def test_body_too_large_is_413() -> None:
    problem = body_too_large(10)
    assert problem.status is HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "10 bytes" in problem.message


def test_query_size_is_counted_in_utf8_bytes() -> None:
    check_query_size("a" * 100, 100)
    check_query_size("é" * 50, 100)  # 100 bytes
    assert bad_request(check_query_size, "a" * 101, 100).status is HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    # 51 characters, but 102 bytes.
    assert bad_request(check_query_size, "é" * 51, 100).status is HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_request_errors_are_400_only_for_graphql_response_json() -> None:
    assert request_error_status(GR) is HTTPStatus.BAD_REQUEST
    assert request_error_status(JSON) is HTTPStatus.OK


def test_content_type_names_utf8() -> None:
    assert content_type(GR) == "application/graphql-response+json; charset=utf-8"
    assert content_type(JSON) == "application/json; charset=utf-8"


def test_error_body_is_a_graphql_response_without_data() -> None:
    assert json.loads(error_body('bad "thing"')) == {"errors": [{"message": 'bad "thing"'}]}


@pytest.mark.parametrize(
    ("accept", "prefers"),
    [
        ("text/event-stream", True),
        ("text/event-stream, application/json", True),
        ("application/json, text/event-stream", False),  # urql's order: JSON where JSON can answer
        ("application/graphql-response+json, application/json, text/event-stream, multipart/mixed", False),
        ("application/json;q=0.5, text/event-stream", True),
        ("text/event-stream;q=0.5, application/json", False),
        ("text/event-stream, */*", True),
        ("text/event-stream;q=0, application/json", False),
        ("application/json", False),
    ],
)
def test_prefers_over_json_ranks_by_quality_then_order(accept: str, prefers: bool) -> None:
    assert prefers_over_json(accept, "text/event-stream") is prefers
