"""Reconnection against a real LiveGQL server: the network drops, the server restarts, a retry is refused."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.requests import HTTPConnection

from livegql import LiveGQL
from livegql.client import Client, ClientConnectionError, ClientError, ConnectionClosedError, Subscription
from tests.client.proxy import Proxy
from tests.client.support import closed_port, fast_client, publish, wait_for_subscribers
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve

TOPIC = 'subscription { topic(name: "news") }'
PROBE_WAIT = 0.05
LIMIT = 10.0


async def probe(server: LiveServer, subscription: Subscription) -> None:
    """Publish until the resubscribed operation delivers: events sent while reconnecting are missed."""
    async with asyncio.timeout(LIMIT):
        for attempt in range(1_000_000):
            await publish(server, "news", f"probe {attempt}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(anext(subscription), PROBE_WAIT)
                return


async def next_after_probes(subscription: Subscription) -> dict[str, Any]:
    """The next event that is not a probe (probes that arrived after `probe` returned come first)."""
    async with asyncio.timeout(LIMIT):
        while (data := await anext(subscription))["topic"].startswith("probe"):
            pass
    return data


@contextlib.asynccontextmanager
async def serving(app: LiveGQL) -> AsyncIterator[LiveServer]:
    """`serve` with its blocking start and stop moved off this loop, where the client must keep running."""
    manager = serve(app)
    live = await asyncio.to_thread(manager.__enter__)
    try:
        yield live
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


async def test_a_subscription_continues_after_the_network_drops(server: LiveServer) -> None:
    async with Proxy(server.port) as proxy, fast_client(proxy.url()) as client:
        subscription = client.subscribe(TOPIC)
        await wait_for_subscribers(server, 1)
        await publish(server, "news", "before")
        assert await anext(subscription) == {"topic": "before"}
        proxy.drop()
        await probe(server, subscription)
        await publish(server, "news", "after")
        assert await next_after_probes(subscription) == {"topic": "after"}
        assert proxy.accepted == 2
        await wait_for_subscribers(server, 1)  # the server released the dropped socket's subscriber
        assert await client.execute("{ hello }") == {"hello": "Hello, world!"}


async def test_a_subscription_continues_after_the_server_restarts(
    app: LiveGQL, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "livegql.client")
    first = serve(app)
    live = await asyncio.to_thread(first.__enter__)
    running = True
    try:
        async with Proxy(live.port) as proxy, fast_client(proxy.url()) as client:
            subscription = client.subscribe(TOPIC)
            await wait_for_subscribers(live, 1)
            await publish(live, "news", "before")
            assert await anext(subscription) == {"topic": "before"}
            await asyncio.to_thread(first.__exit__, None, None, None)
            running = False
            async with serving(app) as restarted:  # the same app (and PubSub) on another port
                proxy.target_port = restarted.port
                await probe(restarted, subscription)
                await publish(restarted, "news", "after")
                assert await next_after_probes(subscription) == {"topic": "after"}
    finally:
        if running:
            await asyncio.to_thread(first.__exit__, None, None, None)
    assert "connection closed with code 1012" in caplog.text  # uvicorn's "Service Restart"


async def test_a_refused_reconnection_raises_4403_and_stops() -> None:
    accepted = 0

    def on_connect(_: dict[str, Any], __: HTTPConnection) -> bool:
        nonlocal accepted
        accepted += 1
        return accepted == 1  # only the first connection is welcome

    app = LiveGQL(SDL, resolvers=make_resolvers(), on_connect=on_connect, keepalive_interval=None)
    async with serving(app) as live, Proxy(live.port) as proxy, fast_client(proxy.url()) as client:
        subscription = client.subscribe(TOPIC)
        await wait_for_subscribers(live, 1)
        proxy.drop()
        with pytest.raises(ConnectionClosedError, match="4403: Forbidden") as raised:
            await anext(subscription)
        assert raised.value.close_code == 4403
        with pytest.raises(ConnectionClosedError):
            await client.execute("{ hello }")
        assert proxy.accepted == 2


async def test_reconnecting_gives_up_after_max_attempts(server: LiveServer) -> None:
    async with Proxy(server.port) as proxy, fast_client(proxy.url(), max_attempts=3) as client:
        subscription = client.subscribe(TOPIC)
        await wait_for_subscribers(server, 1)
        proxy.target_port = closed_port()
        proxy.drop()
        with pytest.raises(ClientConnectionError, match="gave up reconnecting"):
            await anext(subscription)
        assert proxy.accepted == 1 + 3


async def test_without_reconnect_a_drop_fails_the_operations(server: LiveServer) -> None:
    async with Proxy(server.port) as proxy, Client(proxy.url(), reconnect=False) as client:
        subscription = client.subscribe(TOPIC)
        await wait_for_subscribers(server, 1)
        proxy.drop()
        with pytest.raises(ConnectionClosedError, match="1006") as raised:
            await anext(subscription)
        assert raised.value.close_code == 1006
        with pytest.raises(ClientError):
            await client.execute("{ hello }")
        assert proxy.accepted == 1
