"""The chat app's framework-free parts: the message store every schema reads from, and its topic names.

Each framework module (strawberry_chat, ariadne_chat, graphene_chat) defines the same GraphQL schema over this:

    type Message { id: ID!  room: String!  author: String!  text: String! }
    type Query { messages(room: String!, last: Int! = 10): [Message!]! }
    type Mutation { send(room: String!, author: String!, text: String!): Message! }
    type Subscription { messages(room: String!): Message! }

Resolvers find the store at `info.context["chat"]` and publish to `info.context["pubsub"]`.
"""

from dataclasses import dataclass, field
from itertools import count
from typing import Any


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    room: str
    author: str
    text: str


def room_topic(room: str) -> str:
    return f"chat:{room}"


@dataclass
class ChatStore:
    """Messages in arrival order. Lives on the server's loop; resolvers touch it only from there."""

    messages: list[MessageRecord] = field(default_factory=list)
    _ids: "count[int]" = field(default_factory=lambda: count(1))

    def add(self, room: str, author: str, text: str) -> MessageRecord:
        record = MessageRecord(id=str(next(self._ids)), room=room, author=author, text=text)
        self.messages.append(record)
        return record

    def last(self, room: str, last: int) -> list[MessageRecord]:
        in_room = [message for message in self.messages if message.room == room]
        return in_room[-last:] if last > 0 else []


def chat_context(store: ChatStore) -> dict[str, Any]:
    """What `LiveGQL(context=...)` adds to every request's context for these schemas."""
    return {"chat": store}
