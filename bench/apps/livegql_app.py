"""The benchmark schema on livegql: SDL plus a resolver map, events through livegql's own PubSub."""

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLResolveInfo

from bench.apps.common import SDL, Sequencer, make_items
from livegql import LiveGQL, PubSub

sequencer = Sequencer()


def hello(_: Any, __: GraphQLResolveInfo) -> str:
    return "world"


def items(_: Any, __: GraphQLResolveInfo, n: int) -> list[dict[str, Any]]:
    return make_items(n)


async def publish(_: Any, info: GraphQLResolveInfo, topic: str, text: str) -> bool:
    await info.context["pubsub"].publish(topic, sequencer.event(topic, text))
    return True


async def topic(_: Any, info: GraphQLResolveInfo, name: str) -> AsyncIterator[dict[str, Any]]:
    async for event in info.context["pubsub"].subscribe(name):
        yield event


# Protocol-level pings off, as the brief's comparison asks; transport-level pings stay each server's default.
app = LiveGQL(
    SDL,
    pubsub=PubSub(),
    keepalive_interval=None,
    resolvers={
        "Query": {"hello": hello, "items": items},
        "Mutation": {"publish": publish},
        "Subscription": {"topic": topic},
    },
)
