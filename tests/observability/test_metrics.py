"""`GET /metrics` over a real server: every series after real traffic (WebSocket, legacy WebSocket, SSE, HTTP,
live queries), the gauges back at 0 once every client left, and the path's configuration."""

from contextlib import AsyncExitStack
from http import HTTPStatus

import httpx
import pytest

from livegql.core.errors import ConfigurationError
from livegql.engine.stats import BUCKETS, Histogram
from livegql.transport.counters import TRANSPORTS
from tests.observability.support import FEED, LIMIT, LIVE_N, Samples, by_label, make_app, scrape, value
from tests.support.fanout_helpers import on_server, open_peer, results, wait_for
from tests.support.server import LiveServer, serve
from tests.support.streams import open_stream, stream_client
from tests.support.waiting import until
from tests.support.wsclient import RawPeer, connect

KINDS = ("query", "mutation", "subscription", "live")
FAMILIES = {
    "livegql_connections": "gauge",
    "livegql_connections_opened": "counter",
    "livegql_connections_closed": "counter",
    "livegql_active_operations": "gauge",
    "livegql_execution_seconds": "histogram",
    "livegql_deliveries": "counter",
    "livegql_queue_drops": "counter",
    "livegql_slow_consumer_closes": "counter",
    "livegql_broker_up": "gauge",
}


def _only(transports: dict[str, int]) -> dict[str, float]:
    return {name: float(transports.get(name, 0)) for name in TRANSPORTS}


async def _legacy_peer(stack: AsyncExitStack, server: LiveServer) -> RawPeer:
    peer = await stack.enter_async_context(connect(server.ws_url, ("graphql-ws",)))
    await peer.send({"type": "connection_init"})
    assert (await peer.receive())["type"] == "connection_ack"
    return peer


async def _post(server: LiveServer, query: str) -> None:
    async with httpx.AsyncClient(timeout=LIMIT) as http:
        response = await http.post(server.http_url, json={"query": query})
    assert "errors" not in response.json(), response.text


def _check_traffic(samples: Samples, streams: int) -> None:
    opened = {"graphql-transport-ws": 2, "legacy": 1, "sse": 1}
    assert by_label(samples, "livegql_connections", "transport") == _only(opened)
    assert by_label(samples, "livegql_connections_opened_total", "transport") == _only(opened)
    assert by_label(samples, "livegql_connections_closed_total", "transport") == _only({})
    active = by_label(samples, "livegql_active_operations", "kind")
    assert active == {"query": 0.0, "mutation": 0.0, "subscription": 3.0, "live": 1.0}
    # Two events to three subscribers; one live result.
    assert by_label(samples, "livegql_deliveries_total", "kind") == {"subscription": 6.0, "live": 1.0}
    counts = {kind: value(samples, "livegql_execution_seconds_count", {"kind": kind}) for kind in KINDS}
    # One HTTP query, two HTTP mutations, each event executed once per distinct stream, one live execution.
    assert counts == {"query": 1.0, "mutation": 2.0, "subscription": 2.0 * streams, "live": 1.0}
    for kind in KINDS:
        assert value(samples, "livegql_execution_seconds_bucket", {"kind": kind, "le": "+Inf"}) == counts[kind]
        assert value(samples, "livegql_execution_seconds_sum", {"kind": kind}) > 0
    assert by_label(samples, "livegql_queue_drops_total", "reason") == {"slow_consumer": 0.0, "live_coalesced": 0.0}
    assert value(samples, "livegql_slow_consumer_closes_total") == 0
    assert value(samples, "livegql_broker_up") == 1


async def test_metrics_report_traffic_over_every_transport_and_return_to_zero() -> None:
    app = make_app()
    with serve(app) as server:
        async with AsyncExitStack() as stack, stream_client() as client:
            peers = [await open_peer(stack, server.ws_url) for _ in range(2)]
            await _legacy_peer(stack, server)
            await peers[0].subscribe("l", LIVE_N)
            assert await results(peers[0], "l", 1) == [{"n": 1}]
            for peer in peers:
                await peer.subscribe("s", FEED, {"topic": "t"})
            sse = {"query": FEED, "variables": {"topic": "t"}}
            await stack.enter_async_context(open_stream(client, server.http_url, sse))
            hub, pubsub = app.subscriptions, app.pubsub
            await wait_for(server, lambda: hub.subscribers == 3, "three subscribers")
            await wait_for(server, lambda: pubsub.subscriber_count("t") == hub.stream_count, "every source live")
            for text in ("one", "two"):
                await _post(server, f'mutation {{ publish(topic: "t", text: "{text}") }}')
            await _post(server, "{ hello }")
            for peer in peers:
                assert await results(peer, "s", 2) == [{"feed": "one"}, {"feed": "two"}]
            samples, types = await scrape(server)
            assert {name: types[name] for name in FAMILIES} == FAMILIES
            _check_traffic(samples, await on_server(server, lambda: hub.stream_count))

        async def all_gone() -> bool:
            return sum(by_label((await scrape(server))[0], "livegql_connections", "transport").values()) == 0

        await until(all_gone, what="every connection to close")
        samples, _ = await scrape(server)
    assert by_label(samples, "livegql_active_operations", "kind") == dict.fromkeys(KINDS, 0.0)
    opened = by_label(samples, "livegql_connections_opened_total", "transport")
    assert by_label(samples, "livegql_connections_closed_total", "transport") == opened


def test_the_broker_gauge_is_0_while_the_broker_is_down() -> None:
    from livegql import PubSub

    pubsub = PubSub.from_url("redis://127.0.0.1:1")  # nothing listens on port 1
    with serve(make_app(pubsub=pubsub)) as server:
        response = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=LIMIT)
        server.call(pubsub.close())
    assert "livegql_broker_up 0.0" in response.text.splitlines()


def test_the_metrics_path_can_be_moved_or_switched_off() -> None:
    with serve(make_app(metrics_path="/internal/metrics")) as server:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{base}/metrics", timeout=LIMIT).status_code == HTTPStatus.NOT_FOUND
        assert "livegql_broker_up 1.0" in httpx.get(f"{base}/internal/metrics", timeout=LIMIT).text
    with serve(make_app(metrics_path=None)) as server:
        assert httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=LIMIT).status_code == 404
    with pytest.raises(ConfigurationError):
        make_app(metrics_path="metrics")
    with pytest.raises(ConfigurationError):
        make_app(metrics_path="/graphql")


def test_a_histogram_counts_a_bound_in_its_own_bucket_and_accumulates() -> None:
    histogram = Histogram()
    for seconds in (BUCKETS[0], BUCKETS[0] * 1.5, 100.0):
        histogram.observe(seconds)
    buckets = dict(histogram.cumulative())
    assert buckets[repr(BUCKETS[0])] == 1
    assert buckets[repr(BUCKETS[1])] == 2
    assert buckets[repr(BUCKETS[-1])] == 2
    assert buckets["+Inf"] == histogram.count == 3
    assert histogram.sum == pytest.approx(BUCKETS[0] * 2.5 + 100.0)
