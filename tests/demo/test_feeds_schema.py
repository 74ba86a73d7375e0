"""News, ticker and points over real sockets: mutations validate their input, and `query @live` over each feed
sends a new result (as a JSON Patch when asked) when another client changes it."""

from typing import Any

import pytest
from gql import GraphQLRequest

from livegql.core import jsonpatch
from livegql.demo.feeds import GRID_WIDTH
from tests.demo.client import http_session
from tests.support.server import LiveServer
from tests.support.wsclient import RawPeer, connect

LIVE_STOCKS = "query @live { stocks { symbol price change } }"
LIVE_NEWS = "query @live { news(last: 2) { headline author } }"
LIVE_POINTS = "query @live { points { id x y } }"


async def mutate(server: LiveServer, query: str) -> None:
    """The other client: a mutation over HTTP."""
    async with http_session(server) as http:
        await http.execute(GraphQLRequest(query))


async def first_data(peer: RawPeer, query: str) -> dict[str, Any]:
    await peer.subscribe("1", query)
    payload: dict[str, Any] = (await peer.receive_type("next"))["payload"]
    assert payload["revision"] == 1
    data: dict[str, Any] = payload["data"]
    return data


async def next_data(peer: RawPeer, data: dict[str, Any], revision: int) -> dict[str, Any]:
    payload = (await peer.receive_type("next"))["payload"]
    assert set(payload) == {"patch", "revision"}, payload
    assert payload["revision"] == revision
    patched: dict[str, Any] = jsonpatch.apply(data, payload["patch"])
    return patched


async def test_a_live_ticker_gets_a_price_change_as_a_patch(chat_server: LiveServer) -> None:
    async with connect(chat_server.ws_url) as peer:
        await peer.init({"livePatches": True})
        data = await first_data(peer, LIVE_STOCKS)
        await mutate(chat_server, 'mutation { setPrice(symbol: "ACME", price: 42.5) { price } }')
        data = await next_data(peer, data, 2)
        assert data["stocks"][0]["symbol"] == "ACME"
        assert data["stocks"][0]["price"] == 42.5


async def test_a_live_news_feed_gets_each_item_on_top(chat_server: LiveServer) -> None:
    async with connect(chat_server.ws_url) as peer:
        await peer.init({"livePatches": True})
        data = await first_data(peer, LIVE_NEWS)
        assert data == {"news": []}
        for revision, headline in enumerate(("one", "two", "three"), start=2):
            await mutate(chat_server, f'mutation {{ publish(headline: "{headline}", author: "a") {{ id }} }}')
            data = await next_data(peer, data, revision)
            assert data["news"][0] == {"headline": headline, "author": "a"}
        assert [item["headline"] for item in data["news"]] == ["three", "two"]


async def test_live_points_follow_a_move(chat_server: LiveServer) -> None:
    async with connect(chat_server.ws_url) as peer:
        await peer.init({"livePatches": True})
        data = await first_data(peer, LIVE_POINTS)
        await mutate(chat_server, 'mutation { movePoint(id: "taxi-7", x: 0, y: 0) { id } }')
        data = await next_data(peer, data, 2)
        assert {"id": "taxi-7", "x": 0, "y": 0} in data["points"]


@pytest.mark.parametrize(
    ("mutation", "argument"),
    [
        ('setPrice(symbol: "ACME", price: 0) { price }', "price"),
        (f'movePoint(id: "bus-1", x: {GRID_WIDTH}, y: 0) {{ id }}', "x"),
        ('publish(headline: "  ", author: "a") { id }', "text"),
        ('publish(headline: "h", author: "") { id }', "author"),
    ],
)
async def test_bad_input_is_a_client_error(chat_server: LiveServer, mutation: str, argument: str) -> None:
    async with connect(chat_server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("1", f"mutation {{ {mutation} }}")
        message = await peer.receive_type("next")
        [error] = message["payload"]["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}


@pytest.mark.parametrize(
    "mutation", ['setPrice(symbol: "NOPE", price: 1) { price }', 'movePoint(id: "x", x: 0, y: 0) { id }']
)
async def test_unknown_symbols_and_points_are_not_found(chat_server: LiveServer, mutation: str) -> None:
    async with connect(chat_server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("1", f"mutation {{ {mutation} }}")
        [error] = (await peer.receive_type("next"))["payload"]["errors"]
        assert error["extensions"] == {"code": "NOT_FOUND"}
