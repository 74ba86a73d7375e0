"""The app the graceful-shutdown tests run under `livegql serve`: numbered events per topic, a publish mutation,
and a query that takes as long as it is told (to be in flight when SIGTERM arrives)."""

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLResolveInfo

from livegql import LiveGQL

SDL = """
type Query { pid: Int!  slow(seconds: Float!): String! }
type Event { seq: Int! }
type Mutation { publish(topic: String!, seq: Int!): String! }
type Subscription { events(topic: String!): Event! }
"""


def _pid(_: Any, __: GraphQLResolveInfo) -> int:
    return os.getpid()


async def _slow(_: Any, __: GraphQLResolveInfo, seconds: float) -> str:
    await asyncio.sleep(seconds)  # the operation's own work, not a synchronisation
    return "done"


async def _publish(_: Any, info: GraphQLResolveInfo, topic: str, seq: int) -> str:
    position: str = await info.context["pubsub"].publish(topic, {"seq": seq})
    return position


async def _events(_: Any, info: GraphQLResolveInfo, topic: str) -> AsyncIterator[dict[str, Any]]:
    async for event in info.context["pubsub"].subscribe(topic):
        yield event


app = LiveGQL(
    SDL,
    resolvers={
        "Query": {"pid": _pid, "slow": _slow},
        "Mutation": {"publish": _publish},
        "Subscription": {"events": _events},
    },
    keepalive_interval=None,
    # Thousands of test clients share 127.0.0.1, and subscribe at once.
    max_connections_per_client=100_000,
    max_connections=100_000,
)
