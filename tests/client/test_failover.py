"""Failover between a client's URLs: a refused first URL, a switch on reconnect and back, fatal closes, giving up."""

import asyncio
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from livegql.client import Client, ClientConnectionError, ConnectionClosedError
from tests.client.proxy import Proxy
from tests.client.scripted import acknowledge, receive, receive_subscribe, scripted_server, send_event, send_subscribed
from tests.client.support import closed_port, fast_client

LIMIT = 5.0


def refused_url() -> str:
    return f"ws://127.0.0.1:{closed_port()}/graphql"


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


async def test_a_refused_first_url_fails_over_to_the_second() -> None:
    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        id = (await receive_subscribe(connection))["id"]
        await send_subscribed(connection, id, "p0")
        await connection.wait_closed()

    refused = refused_url()
    async with scripted_server(handler) as url:
        client = Client([refused, url])
        assert (client.url, client.urls, client.connected_url) == (refused, (refused, url), None)
        async with client, asyncio.timeout(LIMIT):
            assert client.connected_url == url
            assert await client.subscribe("subscription { n }").subscribed() == "p0"
        assert client.connected_url is None


async def test_a_reconnect_tries_the_url_that_last_worked_then_the_others() -> None:
    subscribes: list[dict[str, Any]] = []

    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        subscribe = await receive_subscribe(connection)
        subscribes.append(subscribe)
        id, n = subscribe["id"], len(subscribes)
        await send_subscribed(connection, id, subscribe["payload"]["extensions"].get("resumeAfter", "p0"))
        await send_event(connection, id, {"n": n}, f"p{n}")
        await connection.wait_closed()

    async with (
        scripted_server(handler) as url,
        Proxy(closed_port()) as first,  # down at first
        Proxy(port_of(url)) as second,
        fast_client([first.url(), second.url()]) as client,
        asyncio.timeout(LIMIT),
    ):
        subscription = client.subscribe("subscription { n }")
        assert await anext(subscription) == {"n": 1}
        assert client.connected_url == second.url()
        first.target_port, second.target_port = port_of(url), closed_port()  # the first is back, the second goes
        second.drop()
        assert await anext(subscription) == {"n": 2}
        assert client.connected_url == first.url()
        assert (first.accepted, second.accepted) == (2, 2)  # the round began with the second, which had worked
        first.drop()  # now the first is the one that last worked: it is tried first, and answers
        assert await anext(subscription) == {"n": 3}
        assert (first.accepted, second.accepted) == (3, 2)
    assert [subscribe["payload"]["extensions"].get("resumeAfter") for subscribe in subscribes] == [None, "p1", "p2"]


async def test_a_fatal_close_is_raised_without_trying_the_other_urls() -> None:
    welcomed = 0

    async def refuse(connection: ServerConnection) -> None:
        await receive(connection)
        await connection.close(4403, "Forbidden")

    async def welcome(connection: ServerConnection) -> None:
        nonlocal welcomed
        welcomed += 1
        await acknowledge(connection)
        await connection.wait_closed()

    async with scripted_server(refuse) as refusing, scripted_server(welcome) as welcoming:
        with pytest.raises(ConnectionClosedError, match="4403: Forbidden"):
            await Client([refusing, welcoming]).connect()
    assert welcomed == 0


async def test_when_no_url_answers_the_error_names_each() -> None:
    urls = [refused_url(), refused_url()]
    with pytest.raises(ClientConnectionError, match="no URL answered") as raised:
        await Client(urls).connect()
    for url in urls:
        assert f"{url}: cannot connect to 127.0.0.1:{port_of(url)}: connection refused" in str(raised.value)


async def test_reconnecting_gives_up_after_max_attempts_rounds_over_every_url() -> None:
    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        await send_subscribed(connection, (await receive_subscribe(connection))["id"], "p0")
        await connection.wait_closed()

    async with (
        scripted_server(handler) as url,
        Proxy(port_of(url)) as first,
        Proxy(closed_port()) as second,
        fast_client([first.url(), second.url()], max_attempts=2) as client,
    ):
        subscription = client.subscribe("subscription { n }")
        assert await asyncio.wait_for(subscription.subscribed(), LIMIT) == "p0"
        first.target_port = closed_port()
        first.drop()
        with pytest.raises(ClientConnectionError, match=r"gave up reconnecting to .+, .+: no URL answered"):
            await asyncio.wait_for(anext(subscription), LIMIT)
    assert (first.accepted, second.accepted) == (1 + 2, 2)


@pytest.mark.parametrize("urls", [[], ["ws://127.0.0.1/graphql", "http://127.0.0.1/graphql"], [b"ws://x"]])
def test_every_url_is_validated(urls: list[Any]) -> None:
    with pytest.raises(ValueError, match="ws:// or wss:// URL"):
        Client(urls)
