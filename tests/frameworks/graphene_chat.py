"""The chat schema in Graphene: ObjectType classes, `Send` a graphene.Mutation, `subscribe_messages` a generator.

Graphene ships no type information (mypy sees its classes as Any), hence the `type: ignore[misc]` on each
subclass under `disallow_subclassing_any`.
"""

from collections.abc import AsyncGenerator
from typing import Any

import graphene
from graphql import GraphQLResolveInfo, GraphQLSchema

from tests.frameworks.chat import ChatStore, MessageRecord, room_topic


class Message(graphene.ObjectType):  # type: ignore[misc]
    id = graphene.ID(required=True)
    room = graphene.String(required=True)
    author = graphene.String(required=True)
    text = graphene.String(required=True)


def store_of(info: GraphQLResolveInfo) -> ChatStore:
    store: ChatStore = info.context["chat"]
    return store


class Query(graphene.ObjectType):  # type: ignore[misc]
    messages = graphene.List(
        graphene.NonNull(Message),
        required=True,
        room=graphene.String(required=True),
        last=graphene.Int(required=True, default_value=10),
    )

    @staticmethod
    def resolve_messages(_: Any, info: GraphQLResolveInfo, room: str, last: int) -> list[MessageRecord]:
        return store_of(info).last(room, last)


class Send(graphene.Mutation):  # type: ignore[misc]
    class Arguments:
        room = graphene.String(required=True)
        author = graphene.String(required=True)
        text = graphene.String(required=True)

    # Return the Message itself (not a generated SendPayload) so the schema matches the other frameworks.
    Output = Message

    @staticmethod
    async def mutate(_: Any, info: GraphQLResolveInfo, room: str, author: str, text: str) -> MessageRecord:
        record = store_of(info).add(room, author, text)
        await info.context["pubsub"].publish(room_topic(room), record)
        return record


class Mutation(graphene.ObjectType):  # type: ignore[misc]
    send = Send.Field(required=True)


class Subscription(graphene.ObjectType):  # type: ignore[misc]
    messages = graphene.Field(Message, required=True, room=graphene.String(required=True))

    @staticmethod
    async def subscribe_messages(_: Any, info: GraphQLResolveInfo, room: str) -> AsyncGenerator[MessageRecord, None]:
        # Graphene resolves each yielded event with an identity resolver: the record is the Message.
        async with info.context["pubsub"].subscribe(room_topic(room)) as records:
            async for record in records:
                yield record


def make_schema() -> GraphQLSchema:
    schema: GraphQLSchema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription).graphql_schema
    return schema
