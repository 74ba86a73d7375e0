"""The slow-consumer series over a real socket: a client that stops reading has its live-query results coalesced
while its send queue is full, then is closed 1013 by the next subscription event; every frame it never got is
counted, and the close's log record names its connection."""

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack

import pytest

from livegql.transport.session import Session
from tests.observability.support import FEED, LIVE_N, by_label, make_app, scrape, value
from tests.support.fanout_helpers import on_server, open_peer, results, wait_for
from tests.support.server import LiveServer, serve

BLOB = "x" * (64 * 1024)
MAX_EVENTS = 1000  # 64 MiB: far more than the kernel buffers of a loopback connection hold
QUEUE = 4


def _session(server: LiveServer) -> Session:
    (session,) = server.app.runtime.sessions.sessions()
    return session


async def _fill_the_queue(server: LiveServer) -> Session:
    """Publish big events, one fully relayed at a time, until the stalled peer's send queue is full (the next
    event would close it)."""
    app, session = server.app, await on_server(server, lambda: _session(server))
    for number in range(MAX_EVENTS):
        await server.acall(app.pubsub.publish("t", BLOB))
        await wait_for(server, _relayed(server, number + 1), "the event to be relayed")
        if await on_server(server, lambda: session.outbox.full):
            return session
    raise AssertionError(f"the send queue never filled after {MAX_EVENTS} events")


def _relayed(server: LiveServer, events: int) -> Callable[[], bool]:
    return lambda: server.app.subscriptions.executions == events


async def _invalidate(server: LiveServer, store: dict[str, int], n: int) -> None:
    store["n"] = n
    await server.acall(server.app.invalidate("Query.n"))


async def test_coalesced_results_dropped_frames_and_the_close_are_counted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="livegql.websocket")
    store = {"n": 1}
    app = make_app(store, send_queue_size=QUEUE, close_timeout=0.2, live_coalesce_window=0)
    with serve(app) as server:
        async with AsyncExitStack() as stack:
            stalled = await open_peer(stack, server.ws_url, max_queue=1)
            await stalled.subscribe("l", LIVE_N)
            assert await results(stalled, "l", 1) == [{"n": 1}]
            await stalled.subscribe("s", FEED, {"topic": "t"})
            await wait_for(server, lambda: app.pubsub.subscriber_count("t") == 1, "the feed's source")
            session = await _fill_the_queue(server)
            # Two new results while the queue is full: the first waits, the second replaces it.
            await _invalidate(server, store, 2)
            await wait_for(server, lambda: "l" in session._deferred, "the first result to wait")
            await _invalidate(server, store, 3)
            await wait_for(server, lambda: app.runtime.counters.live_coalesced == 1, "the second to replace it")
            waiting = await on_server(server, lambda: len(session.outbox))
            await server.acall(app.pubsub.publish("t", BLOB))  # finds the queue full: 1013
            await wait_for(server, lambda: not app.runtime.sessions.sessions(), "the stalled peer to be dropped")
            samples, _ = await scrape(server)
    assert value(samples, "livegql_slow_consumer_closes_total") == 1
    drops = by_label(samples, "livegql_queue_drops_total", "reason")
    assert drops == {"slow_consumer": waiting + 1.0, "live_coalesced": 1.0}
    assert by_label(samples, "livegql_active_operations", "kind")["live"] == 0
    (record,) = [r for r in caplog.records if r.getMessage().startswith("Closing a slow consumer")]
    fields = record.__dict__  # the `extra=` attributes, which LogRecord's type does not declare
    assert (fields["connection_id"], fields["transport"]) == (session.connection_id, "graphql-transport-ws")
