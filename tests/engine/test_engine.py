"""Engine: document cache, operation selection, variables, masking, SDL+resolvers."""

import logging
from typing import Any

import pytest
from graphql import GraphQLError, build_schema

from livegql import ConfigurationError, SlowConsumerError
from livegql.engine import DocumentCache, Executor, OperationKind, RequestError, ResultEncoder
from livegql.engine.schema import build_schema_with_resolvers
from tests.support.schema import SDL, make_resolvers

SCHEMA = build_schema_with_resolvers(SDL, make_resolvers())


def test_document_cache_parses_each_text_once_and_evicts_the_least_recent() -> None:
    cache = DocumentCache(SCHEMA, max_size=2)
    first = cache.get("{ hello }")
    assert cache.get("{ hello }") is first
    cache.get("{ add(a: 1, b: 2) }")
    cache.get("{ hello }")  # refresh: now the add query is the oldest
    cache.get("{ whoami }")
    assert len(cache) == 2
    assert cache.get("{ hello }") is first


def test_document_cache_keeps_failures_too() -> None:
    cache = DocumentCache(SCHEMA, max_size=10)
    failed = cache.get("{ nope }")
    assert failed.document is None
    assert "nope" in failed.errors[0].message
    assert cache.get("{ nope }") is failed


def test_prepare_selects_the_named_operation() -> None:
    executor = Executor(SCHEMA)
    text = 'query A { hello } mutation B { publish(topic: "t", text: "x") } subscription C { count(to: 1) }'
    assert executor.prepare(text, "A").kind is OperationKind.QUERY
    assert executor.prepare(text, "B").kind is OperationKind.MUTATION
    assert executor.prepare(text, "C").kind is OperationKind.SUBSCRIPTION
    with pytest.raises(RequestError, match="Must provide operation name"):
        executor.prepare(text)
    with pytest.raises(RequestError, match="Unknown operation named 'D'"):
        executor.prepare(text, "D")


def test_prepare_reports_syntax_and_validation_errors() -> None:
    executor = Executor(SCHEMA)
    with pytest.raises(RequestError, match="Syntax Error"):
        executor.prepare("{")
    with pytest.raises(RequestError, match="Cannot query field 'nope'"):
        executor.prepare("{ nope }")


def test_variables_that_do_not_coerce_are_a_request_error() -> None:
    executor = Executor(SCHEMA)
    prepared = executor.prepare("query($a: Int!) { add(a: $a, b: 1) }")
    executor.bind(prepared, {"a": 1})
    with pytest.raises(RequestError, match=r"\$a"):
        executor.bind(prepared, {"a": "one"})
    with pytest.raises(RequestError, match=r"\$a"):
        executor.bind(prepared, None)


async def test_a_bound_operation_runs_again_and_again_with_fresh_errors() -> None:
    executor = Executor(SCHEMA)
    bound = executor.bind(executor.prepare("query($a: Int!) { add(a: $a, b: 1) whoami }"), {"a": 41})
    first = await executor.run(bound, {"user": "ann"})
    second = await executor.run(bound, {"user": "bob"})
    assert first.data == {"add": 42, "whoami": "ann"}
    assert second.data == {"add": 42, "whoami": "bob"}
    assert first.errors is None
    assert second.errors is None


async def test_execute_runs_with_the_given_context() -> None:
    executor = Executor(SCHEMA)
    result = await executor.execute(executor.prepare("{ whoami }"), None, {"user": "ann"})
    assert result.data == {"whoami": "ann"}


def test_unexpected_exceptions_are_masked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    error = GraphQLError("db password is hunter2", path=["boom"], original_error=RuntimeError("hunter2"))
    with caplog.at_level(logging.ERROR, logger="livegql.errors"):
        formatted = ResultEncoder().format_error(error)
    assert formatted["message"] == "Internal server error"
    assert formatted["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" in caplog.text  # the operator sees it; the client does not


def test_debug_shows_exception_messages() -> None:
    error = GraphQLError("kaput", original_error=RuntimeError("kaput"))
    assert ResultEncoder(debug=True).format_error(error)["message"] == "kaput"


def test_graphql_and_livegql_errors_pass_through_with_their_code() -> None:
    encoder = ResultEncoder()
    assert encoder.format_error(GraphQLError("Room name is invalid"))["message"] == "Room name is invalid"
    slow = GraphQLError("behind", original_error=SlowConsumerError("behind"))
    assert encoder.format_error(slow)["extensions"] == {"code": "SLOW_CONSUMER"}


def test_schema_builder_rejects_resolvers_for_unknown_types_and_fields() -> None:
    with pytest.raises(ConfigurationError, match="Nope"):
        build_schema_with_resolvers(SDL, {"Nope": {}})
    with pytest.raises(ConfigurationError, match="missing"):
        build_schema_with_resolvers(SDL, {"Query": {"missing": lambda *_: None}})
    not_callable: Any = {"Query": {"hello": 42}}
    with pytest.raises(ConfigurationError, match="not callable"):
        build_schema_with_resolvers(SDL, not_callable)


def test_livegql_rejects_what_is_not_a_schema() -> None:
    from livegql import LiveGQL

    not_a_schema: Any = 42
    with pytest.raises(ConfigurationError, match="GraphQLSchema"):
        LiveGQL(not_a_schema)
    with pytest.raises(ConfigurationError, match="resolvers"):
        LiveGQL(build_schema(SDL), resolvers={})
    with pytest.raises(ConfigurationError, match="Unknown setting"):
        LiveGQL(SDL, no_such_setting=1)
