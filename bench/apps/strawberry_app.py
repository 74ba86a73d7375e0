"""The benchmark schema on Strawberry: code-first types, `strawberry.asgi.GraphQL` with graphql-transport-ws."""

from collections.abc import AsyncGenerator

import strawberry
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from bench.apps.common import TinyPubSub

pubsub = TinyPubSub()


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    price: float


@strawberry.type
class Event:
    text: str
    seq: int


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"

    @strawberry.field
    def items(self, n: int) -> list[Item]:
        # The same objects as make_items(n), as Strawberry types: code-first apps return instances.
        return [Item(id=strawberry.ID(str(i)), name=f"item-{i}", price=i * 1.5) for i in range(n)]


@strawberry.type
class Mutation:
    @strawberry.mutation
    def publish(self, topic: str, text: str) -> bool:
        pubsub.publish(topic, text)
        return True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def topic(self, name: str) -> AsyncGenerator[Event, None]:
        async for event in pubsub.subscribe(name):
            yield Event(text=event["text"], seq=event["seq"])


app = GraphQL(
    strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription),
    graphql_ide=None,
    subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
)
