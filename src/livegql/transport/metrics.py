"""`GET /metrics`: Prometheus text built at scrape time from livegql's own plain counters (transport/counters.py,
engine/stats.py, the hubs' member counts) and the session registry, so delivering an event never touches
prometheus_client."""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livegql.core.errors import ConfigurationError
from livegql.transport.counters import TRANSPORTS
from livegql.transport.runtime import Runtime

TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
"""What `generate_latest` writes, whatever the client's version (newer ones announce 1.0.0 by default)."""


class LiveGQLCollector(Collector):
    """Reads one app's numbers when scraped. `broker_up` is set by the endpoint, which asks the broker first."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.broker_up: bool | None = None  # None: not asked yet; the broker's view from its last use

    def collect(self) -> Iterator[Metric]:
        yield from self._connections()
        yield from self._operations()
        yield from self._delivery()
        up = self.broker_up if self.broker_up is not None else self._runtime.pubsub.healthy
        yield GaugeMetricFamily("livegql_broker_up", "Whether the broker answered (1) or not (0).", value=int(up))

    def _connections(self) -> Iterator[Metric]:
        counters = self._runtime.counters
        open_now = dict.fromkeys(TRANSPORTS, 0)
        for session in self._runtime.sessions.sessions():
            open_now[session.transport_name] += 1
        gauge = GaugeMetricFamily(
            "livegql_connections", "Open sessions (WebSocket connections, event streams).", labels=["transport"]
        )
        opened = CounterMetricFamily("livegql_connections_opened", "Sessions opened.", labels=["transport"])
        closed = CounterMetricFamily("livegql_connections_closed", "Sessions closed.", labels=["transport"])
        for transport in TRANSPORTS:
            gauge.add_metric([transport], open_now[transport])
            opened.add_metric([transport], counters.opened[transport])
            closed.add_metric([transport], counters.closed[transport])
        yield from (gauge, opened, closed)

    def _operations(self) -> Iterator[Metric]:
        runtime = self._runtime
        stats = runtime.executor.stats
        active = GaugeMetricFamily(
            "livegql_active_operations",
            "Operations running: queries and mutations being executed, subscriptions and live queries subscribed.",
            labels=["kind"],
        )
        active.add_metric(["query"], stats.query.running)
        active.add_metric(["mutation"], stats.mutation.running)
        active.add_metric(["subscription"], runtime.subscriptions.subscribers)
        active.add_metric(["live"], runtime.live.watchers)
        yield active
        seconds = HistogramMetricFamily(
            "livegql_execution_seconds",
            "Execution time: each query and mutation, each subscription event and each live-query run (shared "
            "executions counted once).",
            labels=["kind"],
        )
        for kind, histogram in stats.by_kind().items():
            seconds.add_metric([kind], histogram.cumulative(), histogram.sum)
        yield seconds

    def _delivery(self) -> Iterator[Metric]:
        counters = self._runtime.counters
        deliveries = CounterMetricFamily(
            "livegql_deliveries", "Results handed to a client's send queue.", labels=["kind"]
        )
        deliveries.add_metric(["subscription"], counters.subscription_deliveries)
        deliveries.add_metric(["live"], counters.live_deliveries)
        drops = CounterMetricFamily(
            "livegql_queue_drops",
            "Results never sent: subscription frames of sessions closed as slow consumers, and live-query results "
            "replaced by a newer one while the send queue was full.",
            labels=["reason"],
        )
        drops.add_metric(["slow_consumer"], counters.slow_consumer_drops)
        drops.add_metric(["live_coalesced"], counters.live_coalesced)
        closes = CounterMetricFamily(
            "livegql_slow_consumer_closes", "Sessions closed because their send queue was full (1013)."
        )
        closes.add_metric([], counters.slow_consumer_closes)
        yield from (deliveries, drops, closes)


def metrics_route(path: str, runtime: Runtime) -> Route:
    """A Starlette route answering GET at `path` with this app's metrics in Prometheus' text format."""
    if not path.startswith("/"):
        raise ConfigurationError(f"metrics_path must start with '/', got {path!r}")
    # A registry of the app's own, not prometheus_client's global one: two apps in a process each report theirs.
    registry = CollectorRegistry(auto_describe=False)
    collector = LiveGQLCollector(runtime)
    registry.register(collector)

    async def metrics(_request: Request) -> Response:
        # Asked now, as /health does: the last use's view could be minutes old.
        collector.broker_up = await runtime.pubsub.check()
        return Response(generate_latest(registry), media_type=TEXT_FORMAT, headers={"Cache-Control": "no-store"})

    return Route(path, metrics, methods=["GET"], name="livegql-metrics")
