"""The benchmark schema on Ariadne: `ariadne.asgi.GraphQL` with the graphql-transport-ws handler."""

from collections.abc import AsyncGenerator
from typing import Any

from ariadne import MutationType, QueryType, SubscriptionType, make_executable_schema
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLTransportWSHandler
from graphql import GraphQLResolveInfo

from bench.apps.common import SDL, TinyPubSub, make_items

pubsub = TinyPubSub()
query = QueryType()
mutation = MutationType()
subscription = SubscriptionType()


@query.field("hello")
def resolve_hello(*_: Any) -> str:
    return "world"


@query.field("items")
def resolve_items(_: Any, __: GraphQLResolveInfo, n: int) -> list[dict[str, Any]]:
    return make_items(n)


@mutation.field("publish")
def resolve_publish(_: Any, __: GraphQLResolveInfo, topic: str, text: str) -> bool:
    pubsub.publish(topic, text)
    return True


@subscription.source("topic")
async def topic_source(_: Any, __: GraphQLResolveInfo, name: str) -> AsyncGenerator[dict[str, Any], None]:
    async for event in pubsub.subscribe(name):
        yield event


@subscription.field("topic")
def resolve_topic(event: dict[str, Any], *_: Any, **__: Any) -> dict[str, Any]:
    return event


app = GraphQL(
    make_executable_schema(SDL, query, mutation, subscription),
    websocket_handler=GraphQLTransportWSHandler(),
)
