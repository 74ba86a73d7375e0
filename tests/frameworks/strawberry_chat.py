"""The chat schema in Strawberry: types are classes, the subscription is an async generator method.

Strawberry hands `context_value` through untouched, so `info.context` is livegql's plain dict: no adaptation.
"""

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLSchema

from tests.frameworks.chat import ChatStore, MessageRecord, room_topic


@strawberry.type
class Message:
    id: strawberry.ID
    room: str
    author: str
    text: str

    @classmethod
    def from_record(cls, record: MessageRecord) -> "Message":
        return cls(id=strawberry.ID(record.id), room=record.room, author=record.author, text=record.text)


def store_of(info: strawberry.Info) -> ChatStore:
    store: ChatStore = info.context["chat"]
    return store


@strawberry.type
class Query:
    @strawberry.field
    def messages(self, info: strawberry.Info, room: str, last: int = 10) -> list[Message]:
        return [Message.from_record(record) for record in store_of(info).last(room, last)]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def send(self, info: strawberry.Info, room: str, author: str, text: str) -> Message:
        record = store_of(info).add(room, author, text)
        await info.context["pubsub"].publish(room_topic(room), record)
        return Message.from_record(record)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def messages(self, info: strawberry.Info, room: str) -> AsyncGenerator[Message, None]:
        # `async with`: the broker subscription is released however the generator ends.
        async with info.context["pubsub"].subscribe(room_topic(room)) as records:
            async for record in records:
                yield Message.from_record(record)


def make_schema() -> GraphQLSchema:
    """The graphql-core schema LiveGQL serves (Strawberry keeps it at `Schema._schema`)."""
    return strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)._schema
