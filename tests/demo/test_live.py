"""The chat demo's live queries end to end over real sockets: `query @live { messages }` and `{ rooms }` refresh
when someone sends a message (over HTTP or WebSocket), only for the room they watch, and as JSON Patches on request.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from livegql.core import jsonpatch
from tests.demo.client import history, http_session, send, watching, ws_session
from tests.support.server import LiveServer
from tests.support.wsclient import RawPeer, connect

LIVE_HISTORY = (
    "query History($room: String!, $last: Int) @live { messages(room: $room, last: $last) { id author text } }"
)
LIVE_ROOMS = "query @live { rooms { name messageCount } }"

Sender = Callable[[LiveServer], Any]  # an async context manager yielding a gql session that can send


@asynccontextmanager
async def over_http(server: LiveServer) -> AsyncIterator[Any]:
    async with http_session(server) as session:
        yield session


@asynccontextmanager
async def over_websocket(server: LiveServer) -> AsyncIterator[Any]:
    async with ws_session(server) as session:
        yield session


async def live_executions(server: LiveServer) -> int:
    """Live-query executions so far on the server, however many watchers each one served."""

    async def read() -> int:
        return server.app.live.executions

    return await server.acall(read())


def texts(result: dict[str, Any]) -> list[str]:
    return [message["text"] for message in result["messages"]]


@pytest.mark.parametrize("sender", [over_http, over_websocket], ids=["mutation-over-http", "mutation-over-ws"])
async def test_a_live_history_shows_each_message_another_client_sends(chat_server: LiveServer, sender: Sender) -> None:
    async with (
        ws_session(chat_server) as live,
        sender(chat_server) as other,
        watching(live, LIVE_HISTORY, room="general", last=2) as watcher,
    ):
        # The first result is the history as it is; once it arrived the server watches the room for us.
        assert await watcher.receive() == {"messages": []}
        sent = []
        for text in ("one", "two", "three"):
            sent.append(await send(other, text, author="bob"))
            update = await watcher.receive()  # received before the next send: one update per message
            assert update == {"messages": [{key: m[key] for key in ("id", "author", "text")} for m in sent[-2:]]}


async def test_a_mutation_on_the_watching_socket_refreshes_its_live_history(chat_server: LiveServer) -> None:
    async with ws_session(chat_server) as live, watching(live, LIVE_HISTORY, room="ops") as watcher:
        assert await watcher.receive() == {"messages": []}
        await send(live, "deploying", room="ops", author="bot")
        assert texts(await watcher.receive()) == ["deploying"]


async def test_only_sends_to_the_watched_room_refresh_its_live_history(chat_server: LiveServer) -> None:
    async with (
        ws_session(chat_server) as live,
        http_session(chat_server) as http,
        watching(live, LIVE_HISTORY, room="general") as general,
        watching(live, LIVE_HISTORY, room="other") as other,
    ):
        assert await general.receive() == {"messages": []}
        assert await other.receive() == {"messages": []}
        assert await live_executions(chat_server) == 2  # one first execution per live query
        await send(http, "elsewhere", room="other")
        # The barrier: "other" was invalidated and re-run. Had that key also named "general", its execution
        # (due no later than other's) would have started by now, and been counted.
        assert texts(await other.receive()) == ["elsewhere"]
        await send(http, "here", room="general")
        assert texts(await general.receive()) == ["here"]
        # One execution each for the two sends: "general" ran for its own room's message only.
        assert await live_executions(chat_server) == 4


async def test_watchers_of_the_same_live_history_share_one_execution(chat_server: LiveServer) -> None:
    async with (
        ws_session(chat_server) as first,
        ws_session(chat_server) as second,
        ws_session(chat_server) as third,
        http_session(chat_server) as http,
        watching(first, LIVE_HISTORY, room="general") as a,
        watching(second, LIVE_HISTORY, room="general") as b,
        watching(third, LIVE_HISTORY, room="general") as c,
    ):
        for watcher in (a, b, c):
            assert await watcher.receive() == {"messages": []}
        before = await live_executions(chat_server)
        await send(http, "to all")
        for watcher in (a, b, c):
            assert texts(await watcher.receive()) == ["to all"]
        assert await live_executions(chat_server) == before + 1  # three sockets, one execution


async def test_a_live_room_list_counts_each_send(chat_server: LiveServer) -> None:
    async with (
        ws_session(chat_server) as live,
        http_session(chat_server) as http,
        watching(live, LIVE_ROOMS) as watcher,
    ):
        assert await watcher.receive() == {"rooms": [{"name": "general", "messageCount": 0}]}
        await send(http, "first", room="alpha")
        assert await watcher.receive() == {
            "rooms": [{"name": "alpha", "messageCount": 1}, {"name": "general", "messageCount": 0}]
        }
        await send(http, "second")
        assert await watcher.receive() == {
            "rooms": [{"name": "alpha", "messageCount": 1}, {"name": "general", "messageCount": 1}]
        }


async def subscribe_live(peer: RawPeer, id: str, room: str, last: int, extensions: dict[str, Any] | None) -> None:
    payload: dict[str, Any] = {"query": LIVE_HISTORY, "variables": {"room": room, "last": last}}
    if extensions is not None:
        payload["extensions"] = extensions
    await peer.send({"id": id, "type": "subscribe", "payload": payload})


@pytest.mark.parametrize(
    ("init_payload", "extensions"),
    [
        pytest.param({"livePatches": True}, None, id="connection_init"),
        pytest.param(None, {"livePatches": "json-patch"}, id="subscribe-extensions"),
    ],
)
async def test_live_patches_applied_to_the_previous_data_give_the_new_result(
    chat_server: LiveServer, init_payload: dict[str, Any] | None, extensions: dict[str, Any] | None
) -> None:
    async with connect(chat_server.ws_url) as peer, http_session(chat_server) as http:
        await peer.init(init_payload)
        await send(http, "before")
        await subscribe_live(peer, "h", "general", 3, extensions)
        first = (await peer.receive_type("next"))["payload"]
        assert first == {"data": {"messages": await history(http, last=3)}, "revision": 1}
        data = first["data"]
        for number in range(2, 7):  # past `last: 3`, so the window slides: removes at the front, adds at the end
            await send(http, f"m{number}", author="bob")
            payload = (await peer.receive_type("next"))["payload"]
            assert set(payload) == {"patch", "revision"}, payload
            assert payload["revision"] == number
            data = jsonpatch.apply(data, payload["patch"])
            assert data == {"messages": await history(http, last=3)}  # the new full result, as a query gets it
        assert texts(data) == ["m4", "m5", "m6"]


async def test_without_live_patches_every_update_is_the_full_result(chat_server: LiveServer) -> None:
    async with connect(chat_server.ws_url) as peer, http_session(chat_server) as http:
        await peer.init()
        await subscribe_live(peer, "h", "general", 20, None)
        assert (await peer.receive_type("next"))["payload"] == {"data": {"messages": []}}
        await send(http, "whole")
        assert (await peer.receive_type("next"))["payload"] == {"data": {"messages": await history(http)}}
