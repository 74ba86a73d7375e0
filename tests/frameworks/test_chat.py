"""The chat schema of each framework, served by LiveGQL and driven by gql over graphql-transport-ws."""

import asyncio
from contextlib import aclosing
from typing import Any

from graphql import lexicographic_sort_schema, print_schema

from tests.frameworks.chat import room_topic
from tests.frameworks.conftest import FRAMEWORKS, ChatServer
from tests.interop.gql_clients import LIMIT, request, subscribed, ws_session

FIELDS = "id room author text"
MESSAGES = f"query Recent($room: String!, $last: Int) {{ messages(room: $room, last: $last) {{ {FIELDS} }} }}"
SEND = (
    "mutation Send($room: String!, $author: String!, $text: String!) "
    f"{{ send(room: $room, author: $author, text: $text) {{ {FIELDS} }} }}"
)
WATCH = f"subscription Watch($room: String!) {{ messages(room: $room) {{ {FIELDS} }} }}"


def message(id: str, room: str, author: str, text: str) -> dict[str, Any]:
    return {"id": id, "room": room, "author": author, "text": text}


def test_every_framework_builds_the_same_schema() -> None:
    printed = {name: print_schema(lexicographic_sort_schema(make())) for name, make in FRAMEWORKS.items()}
    assert printed["strawberry"] == printed["ariadne"] == printed["graphene"]


async def test_query_returns_the_last_messages_of_one_room(chat: ChatServer) -> None:
    for author, text in [("ann", "one"), ("bob", "two"), ("cy", "three")]:
        chat.store.add("lobby", author, text)
    chat.store.add("attic", "dee", "elsewhere")
    async with ws_session(chat.live.ws_url) as session:
        last_two = await session.execute(request(MESSAGES, room="lobby", last=2))
        default = await session.execute(request('{ messages(room: "lobby") { text } }'))
    assert last_two == {"messages": [message("2", "lobby", "bob", "two"), message("3", "lobby", "cy", "three")]}
    assert default == {"messages": [{"text": "one"}, {"text": "two"}, {"text": "three"}]}


async def test_mutation_stores_and_returns_the_message(chat: ChatServer) -> None:
    async with ws_session(chat.live.ws_url) as session:
        sent = await session.execute(request(SEND, room="lobby", author="ann", text="hi"))
        listed = await session.execute(request(MESSAGES, room="lobby"))
    assert sent == {"send": message("1", "lobby", "ann", "hi")}
    assert listed == {"messages": [sent["send"]]}


async def test_subscription_receives_the_mutation_message_of_its_room_only(chat: ChatServer) -> None:
    topic = room_topic("lobby")
    async with ws_session(chat.live.ws_url) as watcher, ws_session(chat.live.ws_url) as writer:
        async with aclosing(watcher.subscribe(request(WATCH, room="lobby"))) as stream:
            first = asyncio.create_task(anext(stream))
            await subscribed(chat.live, topic)
            await writer.execute(request(SEND, room="attic", author="bob", text="not for the lobby"))
            sent = await writer.execute(request(SEND, room="lobby", author="ann", text="hello lobby"))
            assert await asyncio.wait_for(first, LIMIT) == {"messages": sent["send"]}
            assert sent["send"] == message("2", "lobby", "ann", "hello lobby")
        # Closing sent Complete; the framework's generator must hand its broker subscription back.
        await subscribed(chat.live, topic, expected=0)
