"""The chat demo end to end over real sockets with gql: history, send, live delivery, restarts, errors."""

import re
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from livegql.demo import create_app
from tests.demo.client import (
    history,
    http_session,
    send,
    subscriber_count,
    wait_for_subscribers,
    watching,
    ws_session,
)
from tests.support.server import LiveServer, serve
from tests.support.waiting import until

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
FIELDS = "{ id room author text sentAt }"


async def test_send_returns_the_stored_message(chat_server: LiveServer) -> None:
    async with http_session(chat_server) as session:
        message = await send(session, "  hello there ", author=" ann ")
    assert message["room"] == "general"
    assert (message["author"], message["text"]) == ("ann", "hello there")
    assert message["id"].isdigit()
    assert ISO_UTC.fullmatch(message["sentAt"])


async def test_history_is_the_last_n_in_chronological_order(chat_server: LiveServer) -> None:
    async with http_session(chat_server) as session:
        for number in range(4):
            await send(session, f"m{number}")
        assert [message["text"] for message in await history(session, last=3)] == ["m1", "m2", "m3"]
        default = await session.execute(GraphQLRequest("{ messages { text } }"))
    assert [message["text"] for message in default["messages"]] == ["m0", "m1", "m2", "m3"]


async def test_rooms_counts_messages_and_always_offers_general(chat_server: LiveServer) -> None:
    async with http_session(chat_server) as session:
        query = GraphQLRequest("{ rooms { name messageCount } }")
        assert await session.execute(query) == {"rooms": [{"name": "general", "messageCount": 0}]}
        await send(session, "x", room="alpha")
        assert (await session.execute(query))["rooms"] == [
            {"name": "alpha", "messageCount": 1},
            {"name": "general", "messageCount": 0},
        ]
        await send(session, "x", room="b-room")
        await send(session, "y", room="b-room")
        await send(session, "z", room="general")
        rooms = (await session.execute(query))["rooms"]
    assert rooms == [
        {"name": "alpha", "messageCount": 1},
        {"name": "b-room", "messageCount": 2},
        {"name": "general", "messageCount": 1},
    ]


async def test_subscription_receives_sent_messages_in_order(chat_server: LiveServer) -> None:
    async with (
        ws_session(chat_server) as live,
        http_session(chat_server) as http,
        watching(live, f"subscription {{ messages {FIELDS} }}") as watcher,
    ):
        await wait_for_subscribers(chat_server, "general")
        sent = [await send(http, text) for text in ("one", "two", "three")]
        received = [(await watcher.receive())["messages"] for _ in sent]
    assert received == sent
    await until(lambda: _no_subscribers(chat_server, "general"), what="the subscriber to be released")


async def _no_subscribers(server: LiveServer, room: str) -> bool:
    return await subscriber_count(server, room) == 0


async def test_a_mutation_over_the_websocket_reaches_a_subscriber_on_the_same_socket(
    chat_server: LiveServer,
) -> None:
    query = 'subscription { messages(room: "ops") { text author } }'
    async with ws_session(chat_server) as live, watching(live, query) as watcher:
        await wait_for_subscribers(chat_server, "ops")
        await send(live, "deploying", room="ops", author="bot")
        assert await watcher.receive() == {"messages": {"text": "deploying", "author": "bot"}}


async def test_rooms_are_isolated(chat_server: LiveServer) -> None:
    query = "subscription($room: String!) { messages(room: $room) { room text } }"
    async with ws_session(chat_server) as live, http_session(chat_server) as http:
        async with watching(live, query, room="a") as in_a, watching(live, query, room="b") as in_b:
            await wait_for_subscribers(chat_server, "a")
            await wait_for_subscribers(chat_server, "b")
            await send(http, "for b", room="b")
            await send(http, "for a", room="a")
            # Each watcher's first event is its own room's, though "for b" was published first.
            assert await in_a.receive() == {"messages": {"room": "a", "text": "for a"}}
            assert await in_b.receive() == {"messages": {"room": "b", "text": "for b"}}
        assert [message["text"] for message in await history(http, room="a")] == ["for a"]


async def test_messages_survive_an_app_restart_on_the_same_file(db_path: str) -> None:
    with serve(create_app(db_path)) as first:
        async with http_session(first) as session:
            sent = await send(session, "remember me")
    with serve(create_app(db_path)) as second:
        async with http_session(second) as session:
            assert await history(session) == [{key: sent[key] for key in ("id", "author", "text")}]
            later = await send(session, "after restart")
    assert int(later["id"]) > int(sent["id"])


SEND = (
    "mutation($room: String!, $author: String!, $text: String!) {"
    "  send(room: $room, author: $author, text: $text) { id } }"
)
BAD_ROOM = "room must be 1-64 characters of letters, digits, '_' or '-'"


def _send(**overrides: str) -> GraphQLRequest:
    return GraphQLRequest(SEND, variable_values={"room": "general", "author": "ann", "text": "x", **overrides})


@pytest.mark.parametrize(
    ("request_", "argument", "message"),
    [
        pytest.param(_send(author=" "), "author", "author must not be empty", id="blank-author"),
        pytest.param(_send(author="a" * 65), "author", "author must be at most 64 characters", id="long-author"),
        pytest.param(_send(text=""), "text", "text must not be empty", id="empty-text"),
        pytest.param(_send(text="t" * 2001), "text", "text must be at most 2000 characters", id="long-text"),
        pytest.param(_send(room="no spaces"), "room", BAD_ROOM, id="send-bad-room"),
        pytest.param(
            GraphQLRequest("{ messages(last: 0) { id } }"), "last", "last must be between 1 and 500", id="last-0"
        ),
        pytest.param(
            GraphQLRequest("{ messages(last: 501) { id } }"), "last", "last must be between 1 and 500", id="last-501"
        ),
        pytest.param(GraphQLRequest('{ messages(room: "") { id } }'), "room", BAD_ROOM, id="history-empty-room"),
    ],
)
async def test_invalid_input_is_a_graphql_error_and_stores_nothing(
    chat_server: LiveServer, request_: GraphQLRequest, argument: str, message: str
) -> None:
    async with http_session(chat_server) as session:
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(request_)
        assert await history(session) == []
    assert _only_error(caught.value) == {
        "message": message,
        "extensions": {"code": "BAD_USER_INPUT", "argument": argument},
    }


async def test_subscribing_to_an_invalid_room_is_an_error(chat_server: LiveServer) -> None:
    async with ws_session(chat_server) as live:
        with pytest.raises(TransportQueryError) as caught:
            async with watching(live, 'subscription { messages(room: "bad room!") { id } }') as watcher:
                await watcher.receive()
    assert _only_error(caught.value)["extensions"] == {"code": "BAD_USER_INPUT", "argument": "room"}
    assert await subscriber_count(chat_server, "bad room!") == 0


def _only_error(error: TransportQueryError) -> dict[str, Any]:
    assert error.errors is not None
    assert len(error.errors) == 1
    return {key: error.errors[0][key] for key in ("message", "extensions")}
