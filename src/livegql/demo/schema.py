"""The chat demo's GraphQL schema (SDL) and its resolvers over a `ChatStore` and the app's `PubSub`.

Every send publishes the message on the room's topic (for `subscription { messages }`) and invalidates the
room's resource key (for `query @live { messages }`) and the `rooms` query's (for `query @live { rooms }`); unless
the database itself announces every change (PostgreSQL, see `postgres_chat`), when the send only stores.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from graphql import GraphQLResolveInfo

from livegql import PubSub, add_resource_keys
from livegql.demo.store import Message, MessageStore, Room
from livegql.demo.validation import check_author, check_last, check_room, check_text

DEFAULT_ROOM = "general"

# The defaults here ("general", 20) are DEFAULT_ROOM and validation.DEFAULT_LAST.
SDL = """
"A chat message as stored; `sentAt` is ISO 8601 in UTC."
type Message {
  id: ID!
  room: String!
  author: String!
  text: String!
  sentAt: String!
}

type Room {
  name: String!
  messageCount: Int!
}

type Query {
  "Rooms that have messages, plus the default room `general`, by name."
  rooms: [Room!]!
  "The last `last` (1-500) messages of `room`, oldest first; with `query @live` it updates on every send to `room`."
  messages(room: String! = "general", last: Int = 20): [Message!]!
}

type Mutation {
  "Store a message and deliver it to the room's subscribers."
  send(room: String! = "general", author: String!, text: String!): Message!
}

type Subscription {
  "Every message sent to `room` from now on."
  messages(room: String! = "general"): Message!
}
"""


def room_topic(room: str) -> str:
    """The PubSub topic a room's messages are published on."""
    return f"chat:{room}"


ROOMS_KEY = "Query.rooms"
"""The automatic resource key of the `rooms` query, which a send changes (a count, maybe a new room)."""


CHAT_KEY = "Chat"
"""Read by every chat query: invalidated when any message may have changed unseen (a PostgreSQL source's resync)."""


def room_key(room: str) -> str:
    """The live-query resource key of a room's history: invalidated by every message sent to the room."""
    return f"Room:{room}"


def make_resolvers(store: MessageStore, *, announce: bool = True) -> dict[str, dict[str, Callable[..., Any]]]:
    """The resolver map for `SDL`, reading and writing `store`; with `announce`, a send publishes and invalidates
    on `info.context["pubsub"]`. Without, something else must (the PostgreSQL triggers): doing both would deliver
    each message twice to subscribers."""
    # Held from the INSERT until the publish, so live subscribers see a room's messages in id order,
    # exactly as history shows them, even with a broker whose publish awaits I/O. Per process only.
    send_order = asyncio.Lock()

    async def rooms(_: Any, info: GraphQLResolveInfo) -> list[Room]:
        add_resource_keys(info, CHAT_KEY)
        found = await store.rooms()
        if not any(room["name"] == DEFAULT_ROOM for room in found):
            found.append({"name": DEFAULT_ROOM, "messageCount": 0})
            found.sort(key=lambda room: room["name"])
        return found

    async def messages(_: Any, info: GraphQLResolveInfo, room: str, last: int | None) -> list[Message]:
        room, count = check_room(room), check_last(last)
        # A live history (`query @live { messages(...) }`) is re-run when its room's key is invalidated.
        add_resource_keys(info, room_key(room), CHAT_KEY)
        return await store.recent(room, count)

    async def send(_: Any, info: GraphQLResolveInfo, room: str, author: str, text: str) -> Message:
        room, author, text = check_room(room), check_author(author), check_text(text)
        if not announce:
            return await store.add(room, author, text)
        pubsub: PubSub = info.context["pubsub"]
        async with send_order:
            message = await store.add(room, author, text)
            await pubsub.publish(room_topic(room), message)
            # Live histories of this room (only) re-run, and so do live room lists (a count changed).
            await pubsub.invalidate(room_key(room), ROOMS_KEY)
        return message

    def watch(_: Any, info: GraphQLResolveInfo, room: str) -> AsyncIterator[Message]:
        # A plain function, not an async generator: a bad room is then rejected when the subscription
        # starts (an `error` message) rather than on its first event, and the subscriber is registered as
        # soon as the operation starts, so nothing published from then on is missed.
        pubsub: PubSub = info.context["pubsub"]
        subscription: AsyncIterator[Message] = pubsub.subscribe(room_topic(check_room(room)))
        return subscription

    return {
        "Query": {"rooms": rooms, "messages": messages},
        "Mutation": {"send": send},
        "Subscription": {"messages": watch},
    }
