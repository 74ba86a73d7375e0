"""The engine's incremental delivery API: which documents may use @defer and @stream, `run_incremental`'s encoded
payloads (errors masked), a fresh executor per run, and cancelling the outstanding work on close."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import ExecutionResult, GraphQLResolveInfo

from livegql.core import json
from livegql.engine import Executor, RequestError, ResultEncoder
from livegql.engine.executor import IncrementalResults
from livegql.engine.incremental_rules import LIVE_CONFLICT_CODE, UNAVAILABLE_CODE
from livegql.engine.schema import build_schema_with_resolvers, with_live_directive

SDL = "type Query { hello: String! later: String broken: String letters: [String!]! }"
DEFER = "{ hello ... @defer { later } }"
STREAM = "{ letters @stream(initialCount: 1) }"


class Source:
    """What the resolvers wait on and report, within the test's own loop."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()

    async def hold(self) -> None:
        self.started.set()
        try:
            await self.gate.wait()
        except BaseException:
            self.stopped.set()
            raise


def make_executor(source: Source) -> Executor:
    async def later(_: Any, __: GraphQLResolveInfo) -> str:
        await source.hold()
        return "later"

    def broken(_: Any, __: GraphQLResolveInfo) -> str:
        raise RuntimeError("secret")

    async def letters(_: Any, __: GraphQLResolveInfo) -> AsyncIterator[str]:
        try:
            yield "a"
            await source.hold()
            yield "b"
        finally:
            source.stopped.set()

    resolvers: dict[str, dict[str, Any]] = {
        "Query": {"hello": lambda *_: "world", "later": later, "broken": broken, "letters": letters}
    }
    return Executor(with_live_directive(build_schema_with_resolvers(SDL, resolvers)))


@pytest.fixture
def source() -> Source:
    return Source()


@pytest.fixture
def executor(source: Source) -> Executor:
    return make_executor(source)


async def payloads_of(results: ExecutionResult | IncrementalResults) -> list[Any]:
    assert isinstance(results, IncrementalResults), results
    try:
        return [json.loads(payload) async for payload in results]
    finally:
        await results.aclose()


def refusal_codes(executor: Executor, query: str) -> list[Any]:
    with pytest.raises(RequestError) as refused:
        executor.prepare(query)
    return [(error.extensions or {}).get("code") for error in refused.value.errors]


@pytest.mark.gql33
def test_prepare_knows_whether_the_document_defers_or_streams(executor: Executor) -> None:
    assert executor.prepare(DEFER).incremental
    assert executor.prepare(STREAM).incremental
    assert executor.prepare("{ hello ... @ defer { later } }").incremental
    assert not executor.prepare("{ hello later }").incremental
    assert not executor.prepare("query deferred { hello }").incremental  # the word alone is not the directive
    assert executor.documents.get(DEFER).incremental


@pytest.mark.gql33
async def test_run_ignores_defer_and_answers_one_complete_result(executor: Executor, source: Source) -> None:
    source.gate.set()
    result = await executor.run(executor.bind(executor.prepare(DEFER), None), {})
    assert result == ExecutionResult({"hello": "world", "later": "later"}, None)


@pytest.mark.gql33
async def test_run_incremental_encodes_the_initial_payload_then_each_later_one(
    executor: Executor, source: Source
) -> None:
    bound = executor.bind(executor.prepare(DEFER), None)
    results = await executor.run_incremental(bound, {}, ResultEncoder())
    assert isinstance(results, IncrementalResults)
    first = await anext(results)
    assert json.loads(first) == {"data": {"hello": "world"}, "pending": [{"id": "0", "path": []}], "hasNext": True}
    later = asyncio.ensure_future(anext(results))
    await source.started.wait()
    assert not later.done()  # the deferred field holds its payload back
    source.gate.set()
    assert json.loads(await later) == {
        "incremental": [{"data": {"later": "later"}, "id": "0"}],
        "completed": [{"id": "0"}],
        "hasNext": False,
    }
    with pytest.raises(StopAsyncIteration):
        await anext(results)
    await results.aclose()


@pytest.mark.gql33
@pytest.mark.parametrize(("debug", "message"), [(False, "Internal server error"), (True, "secret")])
async def test_errors_of_deferred_data_go_through_the_encoder(executor: Executor, debug: bool, message: str) -> None:
    bound = executor.bind(executor.prepare("{ hello ... @defer { broken } }"), None)
    _, last = await payloads_of(await executor.run_incremental(bound, {}, ResultEncoder(debug=debug)))
    [error] = last["incremental"][0]["errors"]
    assert error["message"] == message


@pytest.mark.gql33
async def test_each_incremental_run_starts_afresh(executor: Executor, source: Source) -> None:
    source.gate.set()
    bound = executor.bind(executor.prepare(DEFER), None)
    first = await payloads_of(await executor.run_incremental(bound, {}, ResultEncoder()))
    second = await payloads_of(await executor.run_incremental(bound, {}, ResultEncoder()))
    assert first == second
    assert second[0]["pending"] == [{"id": "0", "path": []}]  # nothing left over from the first run


@pytest.mark.gql33
async def test_closing_mid_way_cancels_the_deferred_work(executor: Executor, source: Source) -> None:
    results = await executor.run_incremental(executor.bind(executor.prepare(DEFER), None), {}, ResultEncoder())
    assert isinstance(results, IncrementalResults)
    await anext(results)
    waiting = asyncio.ensure_future(anext(results))
    await source.started.wait()
    waiting.cancel()  # what a client stopping the operation does to the task that sends the payloads
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await results.aclose()
    assert source.stopped.is_set()


@pytest.mark.gql33
async def test_closing_after_the_initial_payload_closes_a_streamed_source(executor: Executor, source: Source) -> None:
    results = await executor.run_incremental(executor.bind(executor.prepare(STREAM), None), {}, ResultEncoder())
    assert isinstance(results, IncrementalResults)
    assert json.loads(await anext(results))["data"] == {"letters": ["a"]}
    assert not source.stopped.is_set()  # the source is open, though no later payload was asked for
    await results.aclose()
    assert source.stopped.is_set()
    await results.aclose()  # closing again is harmless


@pytest.mark.gql33
async def test_defer_if_false_is_one_result(executor: Executor, source: Source) -> None:
    source.gate.set()
    bound = executor.bind(executor.prepare("{ hello ... @defer(if: false) { later } }"), None)
    result = await executor.run_incremental(bound, {}, ResultEncoder())
    assert result == ExecutionResult({"hello": "world", "later": "later"}, None)


@pytest.mark.gql33
def test_the_schema_declares_defer_and_stream(executor: Executor) -> None:
    assert executor.schema.get_directive("defer") is not None
    assert executor.schema.get_directive("stream") is not None


@pytest.mark.gql32
def test_defer_and_stream_are_refused_with_the_reason(executor: Executor) -> None:
    assert refusal_codes(executor, DEFER) == [UNAVAILABLE_CODE]
    assert refusal_codes(executor, STREAM) == [UNAVAILABLE_CODE]
    with pytest.raises(RequestError, match=r"graphql-core >= 3\.3"):
        executor.prepare(DEFER)
    assert executor.schema.get_directive("defer") is None  # introspection does not offer what cannot be served


@pytest.mark.gql32
def test_other_unknown_directives_are_still_reported_as_unknown(executor: Executor) -> None:
    with pytest.raises(RequestError, match="Unknown directive '@deferred'"):
        executor.prepare("{ hello @deferred }")


@pytest.mark.gql32
async def test_run_incremental_answers_one_result(executor: Executor) -> None:
    bound = executor.bind(executor.prepare("{ hello }"), None)
    assert await executor.run_incremental(bound, {}, ResultEncoder()) == ExecutionResult({"hello": "world"}, None)


@pytest.mark.parametrize(
    "query",
    [
        "query @live { hello ... @defer { later } }",
        "query @live { letters @stream }",
        "query @live { ...F } fragment F on Query { ... @defer { later } }",
    ],
)
def test_live_queries_cannot_defer_or_stream(executor: Executor, query: str) -> None:
    assert LIVE_CONFLICT_CODE in refusal_codes(executor, query)
