"""The app the multi-process tests serve with `livegql serve`: numbered events per topic, published through
whichever broker `--broker` names, and the worker's pid so a test knows which process answered."""

import os
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLResolveInfo

from livegql import LiveGQL

SDL = """
type Query { pid: Int! }
type Event { topic: String! seq: Int! }
type Mutation {
  "Publish event `seq` of `topic`; retried publishes of one (topic, seq) are added once. Returns its position."
  publish(topic: String!, seq: Int!): String!
}
type Subscription { events(topic: String!): Event! }
"""


def _pid(_: Any, __: GraphQLResolveInfo) -> int:
    return os.getpid()


async def _publish(_: Any, info: GraphQLResolveInfo, topic: str, seq: int) -> str:
    position: str = await info.context["pubsub"].publish(
        topic, {"topic": topic, "seq": seq}, idempotency_key=f"{topic}/{seq}"
    )
    return position


async def _events(_: Any, info: GraphQLResolveInfo, topic: str) -> AsyncIterator[dict[str, Any]]:
    async for event in info.context["pubsub"].subscribe(topic):
        yield event


app = LiveGQL(
    SDL,
    resolvers={
        "Query": {"pid": _pid},
        "Mutation": {"publish": _publish},
        "Subscription": {"events": _events},
    },
    keepalive_interval=None,
    # The scale tests' 200 clients stand for 200 users but share 127.0.0.1: once a process is killed, the other
    # holds them all and the publisher's socket, past the per-address default (200).
    max_connections_per_client=1_000,
)
