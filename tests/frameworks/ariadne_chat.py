"""The chat schema in Ariadne: SDL first, resolvers bound by name, the subscription a source plus a field."""

from collections.abc import AsyncGenerator
from typing import Any

from ariadne import MutationType, QueryType, SubscriptionType, make_executable_schema
from graphql import GraphQLResolveInfo, GraphQLSchema

from tests.frameworks.chat import ChatStore, MessageRecord, room_topic

TYPE_DEFS = """
type Message {
  id: ID!
  room: String!
  author: String!
  text: String!
}
type Query {
  messages(room: String!, last: Int! = 10): [Message!]!
}
type Mutation {
  send(room: String!, author: String!, text: String!): Message!
}
type Subscription {
  messages(room: String!): Message!
}
"""

query = QueryType()
mutation = MutationType()
subscription = SubscriptionType()


def store_of(info: GraphQLResolveInfo) -> ChatStore:
    store: ChatStore = info.context["chat"]
    return store


@query.field("messages")
def resolve_messages(_: Any, info: GraphQLResolveInfo, room: str, last: int) -> list[MessageRecord]:
    return store_of(info).last(room, last)


@mutation.field("send")
async def resolve_send(_: Any, info: GraphQLResolveInfo, room: str, author: str, text: str) -> MessageRecord:
    record = store_of(info).add(room, author, text)
    await info.context["pubsub"].publish(room_topic(room), record)
    return record


@subscription.source("messages")
async def messages_source(_: Any, info: GraphQLResolveInfo, room: str) -> AsyncGenerator[MessageRecord, None]:
    async with info.context["pubsub"].subscribe(room_topic(room)) as records:
        async for record in records:
            yield record


@subscription.field("messages")
def resolve_message_event(record: MessageRecord, _: GraphQLResolveInfo, room: str) -> MessageRecord:
    # Each event the source yields is the Message itself; its fields resolve by attribute.
    return record


def make_schema() -> GraphQLSchema:
    return make_executable_schema(TYPE_DEFS, query, mutation, subscription)
