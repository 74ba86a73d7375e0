"""The fanout-redis scenario's server: bench/apps/livegql_app.py's topics, with the broker on Redis, so that two
processes running this app share their topics (bench/fanout_redis.py starts them).

The broker is the one `LIVEGQL_BROKER_URL` names (as under `livegql serve --broker URL`); its keys and channels
start with `LIVEGQL_BENCH_REDIS_PREFIX`, fresh for every run. Each event's `seq` comes from a Redis counter (one
INCR per publish), so it numbers the topic's events across both processes, as every subscriber checks.
"""

import os
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLResolveInfo
from redis.asyncio import Redis

from bench.apps.common import SDL, make_items
from livegql import LiveGQL, PubSub
from livegql.broker.pubsub import BROKER_URL_ENV
from livegql.broker.redis import RedisBackend

PREFIX_ENV = "LIVEGQL_BENCH_REDIS_PREFIX"
BROKER_URL = os.environ[BROKER_URL_ENV]  # no default: in memory, the two processes would not share events
PREFIX = os.environ.get(PREFIX_ENV, "livegql-bench:")
counters = Redis.from_url(BROKER_URL)


def hello(_: Any, __: GraphQLResolveInfo) -> str:
    return "world"


def items(_: Any, __: GraphQLResolveInfo, n: int) -> list[dict[str, Any]]:
    return make_items(n)


async def publish(_: Any, info: GraphQLResolveInfo, topic: str, text: str) -> bool:
    seq = await counters.incr(f"{PREFIX}seq:{topic}")
    await info.context["pubsub"].publish(topic, {"text": text, "seq": seq})
    return True


async def topic(_: Any, info: GraphQLResolveInfo, name: str) -> AsyncIterator[dict[str, Any]]:
    async for event in info.context["pubsub"].subscribe(name):
        yield event


app = LiveGQL(
    SDL,
    pubsub=PubSub(RedisBackend(BROKER_URL, key_prefix=PREFIX)),
    keepalive_interval=None,  # as in livegql_app.py
    max_connections_per_client=1_000_000,  # as in livegql_app.py
    max_connections=1_000_000,
    resolvers={
        "Query": {"hello": hello, "items": items},
        "Mutation": {"publish": publish},
        "Subscription": {"topic": topic},
    },
)
