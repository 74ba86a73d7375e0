"""The Python client resumes by itself after its socket drops, and a client that was away past the retention
gets the documented "history gone" error, never a partial replay."""

import asyncio
import socket
from collections.abc import Iterator

import pytest

from livegql import LiveGQL, PubSub
from livegql.broker.retention import Retention
from livegql.client import Client, HistoryGoneError
from tests.client.proxy import Proxy
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve

WATCH = "subscription($t: String!) { topic(name: $t) }"
RETAINED = 3


@pytest.fixture
def short_history() -> Iterator[LiveServer]:
    pubsub = PubSub(retention=Retention(count=RETAINED))
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, keepalive_interval=None)
    with serve(app) as live:
        yield live


def _closed_port() -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def _publish(server: LiveServer, *texts: str) -> None:
    for text in texts:
        await server.acall(server.app.pubsub.publish("t", text))


async def _offline_while(proxy: Proxy, server: LiveServer, *texts: str) -> None:
    """Cut the client off, publish `texts` while it cannot reconnect, then let it back."""
    real_port = proxy.target_port
    proxy.target_port = _closed_port()
    proxy.drop()
    await _publish(server, *texts)
    proxy.target_port = real_port


async def test_the_client_resumes_after_a_drop_with_nothing_lost(short_history: LiveServer) -> None:
    async with Proxy(short_history.port) as proxy, Client(proxy.url(), backoff_initial=0.05) as client:
        subscription = client.subscribe(WATCH, {"t": "t"})
        await subscription.subscribed(timeout=5)
        await _publish(short_history, "a")
        async with asyncio.timeout(10):
            assert await anext(subscription) == {"topic": "a"}
            await _offline_while(proxy, short_history, "b", "c")  # within the retention of 3
            assert [await anext(subscription) for _ in range(2)] == [{"topic": "b"}, {"topic": "c"}]
            await _publish(short_history, "d")
            assert await anext(subscription) == {"topic": "d"}
    assert proxy.accepted >= 2


async def test_a_client_away_past_the_retention_gets_history_gone(short_history: LiveServer) -> None:
    async with Proxy(short_history.port) as proxy, Client(proxy.url(), backoff_initial=0.05) as client:
        subscription = client.subscribe(WATCH, {"t": "t"})
        await subscription.subscribed(timeout=5)
        await _publish(short_history, "seen")
        async with asyncio.timeout(10):
            assert await anext(subscription) == {"topic": "seen"}
            position = subscription.position
            await _offline_while(proxy, short_history, *[f"missed-{n}" for n in range(RETAINED + 2)])
            with pytest.raises(HistoryGoneError) as raised:
                await anext(subscription)  # no partial replay first: the error is the very next thing
    assert raised.value.code == "HISTORY_GONE"
    assert raised.value.position == position
