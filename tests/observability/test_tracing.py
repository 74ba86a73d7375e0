"""OpenTelemetry tracing over a real server: one span per operation (HTTP, WebSocket, subscriptions and live
queries from subscribe to complete), errors with status ERROR, nothing at all when tracing is off."""

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLResolveInfo
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from livegql import LiveGQL, PubSub
from livegql.core.errors import ConfigurationError
from tests.observability.support import LIMIT
from tests.support.fanout_helpers import results
from tests.support.server import LiveServer, serve, subscribers
from tests.support.streams import SSEReader, open_stream, stream_client
from tests.support.waiting import until
from tests.support.wsclient import connect

SDL = """
type Query { hello: String!, boom: String, n: Int!, nested: String! }
type Subscription { feed: String!, broken: String! }
"""
FEED = "subscription Feed { feed }"
EXPORTER = InMemorySpanExporter()


def _install_provider() -> None:
    """The SDK as the global provider, once per process (OpenTelemetry refuses to replace it)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)


_install_provider()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


def make_app(**options: Any) -> LiveGQL:
    async def feed(_: Any, info: GraphQLResolveInfo) -> AsyncIterator[str]:
        async for text in info.context["pubsub"].subscribe("feed"):
            yield text

    async def broken(*_: Any) -> AsyncIterator[str]:
        raise RuntimeError("the source broke")
        yield ""  # a generator all the same

    def nested(*_: Any) -> str:
        # What a database client's instrumentation does: a span of its own, under whatever is current.
        with trace.get_tracer("tests").start_as_current_span("db.query"):
            return "nested"

    def boom(*_: Any) -> str:
        raise RuntimeError("the resolver broke")

    resolvers: dict[str, dict[str, Any]] = {
        "Query": {"hello": lambda *_: "hello", "boom": boom, "n": lambda *_: 1, "nested": nested},
        "Subscription": {"feed": feed, "broken": broken},
    }
    options.setdefault("tracing", True)
    return LiveGQL(SDL, resolvers=resolvers, pubsub=PubSub(), keepalive_interval=None, **options)


async def _post(server: LiveServer, query: str, operation_name: str | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=LIMIT) as http:
        body = {"query": query, "operationName": operation_name}
        response = await http.post(server.http_url, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _finished(exporter: InMemorySpanExporter, count: int) -> tuple[ReadableSpan, ...]:
    """The spans once `count` have ended (the server ends some after the client's last message)."""

    async def ended() -> bool:
        return len(exporter.get_finished_spans()) >= count

    await until(ended, LIMIT, f"{count} finished spans")
    return exporter.get_finished_spans()


async def test_an_http_query_is_one_span_with_graphql_attributes(spans: InMemorySpanExporter) -> None:
    with serve(make_app(tracing_documents=True)) as server:
        query = "query Greeting { hello }"
        assert await _post(server, query) == {"data": {"hello": "hello"}}
    (span,) = spans.get_finished_spans()
    assert span.name == "query Greeting"
    assert span.kind is SpanKind.SERVER
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        "graphql.operation.type": "query",
        "graphql.operation.name": "Greeting",
        "graphql.document": query,
        "livegql.transport": "http",
    }
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "livegql"


async def test_a_websocket_query_carries_its_connection_and_operation_ids(spans: InMemorySpanExporter) -> None:
    with serve(make_app()) as server:
        async with connect(server.ws_url) as peer:
            await peer.init()
            await peer.subscribe("q1", "{ hello }")
            assert await results(peer, "q1", 1) == [{"hello": "hello"}]
            assert (await peer.receive())["type"] == "complete"
    (span,) = await _finished(spans, 1)
    attributes = dict(span.attributes or {})
    assert span.name == "query", "an anonymous operation's span is named by its type alone"
    assert "graphql.document" not in attributes, "the query text is recorded only when asked for"
    connection_id = attributes.pop("livegql.connection_id")
    assert isinstance(connection_id, str)
    assert len(connection_id) == 8
    assert attributes == {
        "graphql.operation.type": "query",
        "livegql.transport": "graphql-transport-ws",
        "livegql.operation_id": "q1",
    }


async def test_spans_the_resolvers_start_are_children_of_the_operation(spans: InMemorySpanExporter) -> None:
    with serve(make_app()) as server:
        assert await _post(server, "{ nested }") == {"data": {"nested": "nested"}}
        async with connect(server.ws_url) as peer:
            await peer.init()
            await peer.subscribe("q1", "{ nested }")
            assert await results(peer, "q1", 1) == [{"nested": "nested"}]
        finished = await _finished(spans, 4)
    operations = [span for span in finished if span.name == "query"]
    children = [span for span in finished if span.name == "db.query"]
    assert len(operations) == len(children) == 2
    parents = {child.parent.span_id for child in children if child.parent is not None}
    assert parents == {span.context.span_id for span in operations if span.context is not None}


async def test_a_subscription_span_lasts_until_complete(spans: InMemorySpanExporter) -> None:
    app = make_app()
    with serve(app) as server:
        async with connect(server.ws_url) as peer:
            await peer.init()
            await peer.subscribe("s1", FEED)
            await until(lambda: _has_subscriber(server), LIMIT, "the subscription to start")
            await server.acall(app.pubsub.publish("feed", "first"))
            assert await results(peer, "s1", 1) == [{"feed": "first"}]
            assert spans.get_finished_spans() == (), "still running: its span is open"
            await peer.send({"id": "s1", "type": "complete"})
            (span,) = await _finished(spans, 1)
    assert span.name == "subscription Feed"
    assert span.status.status_code is StatusCode.UNSET
    attributes = span.attributes or {}
    assert (attributes["graphql.operation.type"], attributes["livegql.operation_id"]) == ("subscription", "s1")


async def test_an_sse_subscription_span_ends_when_the_client_leaves(spans: InMemorySpanExporter) -> None:
    app = make_app()
    with serve(app) as server:
        async with stream_client() as client, open_stream(client, server.http_url, {"query": FEED}) as response:
            await until(lambda: _has_subscriber(server), LIMIT, "the subscription to start")
            await server.acall(app.pubsub.publish("feed", "first"))
            event = await SSEReader(response).event()
            assert event.event == "next", event
            assert spans.get_finished_spans() == ()
        (span,) = await _finished(spans, 1)
    attributes = span.attributes or {}
    assert (span.name, attributes["livegql.transport"]) == ("subscription Feed", "sse")
    assert span.status.status_code is StatusCode.UNSET


async def test_a_subscription_whose_source_fails_sets_status_error(spans: InMemorySpanExporter) -> None:
    with serve(make_app()) as server:
        async with connect(server.ws_url) as peer:
            await peer.init()
            await peer.subscribe("s1", "subscription Broken { broken }")
            assert (await peer.receive())["type"] == "error"
            (span,) = await _finished(spans, 1)
    assert span.name == "subscription Broken"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "Internal server error", "what the client was told"


async def _has_subscriber(server: LiveServer) -> bool:
    return await subscribers(server, "feed") == 1


async def test_a_live_query_span_is_marked_live_and_ends_with_its_connection(spans: InMemorySpanExporter) -> None:
    with serve(make_app()) as server:
        async with connect(server.ws_url) as peer:
            await peer.init()
            await peer.subscribe("l1", "query Count @live { n }")
            assert await results(peer, "l1", 1) == [{"n": 1}]
            assert spans.get_finished_spans() == ()
        (span,) = await _finished(spans, 1)  # the socket closed: its operations stopped
    assert span.name == "query Count"
    assert (span.attributes or {})["livegql.live"] is True


async def test_an_erroring_resolver_sets_status_error(spans: InMemorySpanExporter) -> None:
    with serve(make_app()) as server:
        answer = await _post(server, "query Boom { boom }")
        assert answer["data"] == {"boom": None}
        async with connect(server.ws_url) as peer:
            await peer.init()
            await peer.subscribe("b1", "query Boom { boom }")
            assert await results(peer, "b1", 1) == [{"boom": None}]
        finished = await _finished(spans, 2)
    assert [span.attributes["livegql.transport"] for span in finished if span.attributes] == [
        "http",
        "graphql-transport-ws",
    ]
    for span in finished:
        assert span.status.status_code is StatusCode.ERROR
        # The resolver's own message: clients see it masked, the operator's traces do not.
        assert span.status.description == "the resolver broke"
        (event,) = span.events
        assert event.name == "exception"
        assert (event.attributes or {})["exception.message"] == "the resolver broke"


async def test_no_spans_when_tracing_is_off(spans: InMemorySpanExporter) -> None:
    app = make_app(tracing=False)
    assert app.runtime.tracer is None
    with serve(app) as server:
        assert await _post(server, "{ hello }") == {"data": {"hello": "hello"}}
        async with connect(server.ws_url) as peer:
            await peer.init()
            await peer.subscribe("q1", "{ hello }")
            assert await results(peer, "q1", 1) == [{"hello": "hello"}]
            assert (await peer.receive())["type"] == "complete"
    assert spans.get_finished_spans() == ()


def test_an_app_without_tracing_never_imports_opentelemetry() -> None:
    script = (
        "import sys\n"
        "from livegql import LiveGQL\n"
        "app = LiveGQL('type Query { hello: String }')\n"
        "assert app.runtime.tracer is None\n"
        "loaded = sorted(name for name in sys.modules if name.startswith('opentelemetry'))\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


def test_tracing_without_the_api_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # what `import opentelemetry` finds uninstalled
    with pytest.raises(ConfigurationError, match=r"livegql\[otel\]"):
        make_app()
