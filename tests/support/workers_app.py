"""The app `livegql serve --workers N` runs in tests: which process answered, and one topic ("t") to publish
to and subscribe to, through the app's default broker (the one `--broker` names)."""

import os
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLResolveInfo

from livegql import LiveGQL

TOPIC = "t"

SDL = """
type Query { pid: Int! }
type Mutation { send(text: String!): Boolean! }
type Subscription { messages: String! }
"""


def pid(_: Any, __: GraphQLResolveInfo) -> int:
    return os.getpid()


async def send(_: Any, info: GraphQLResolveInfo, text: str) -> bool:
    await info.context["pubsub"].publish(TOPIC, text)
    return True


async def messages(_: Any, info: GraphQLResolveInfo) -> AsyncIterator[str]:
    async for text in info.context["pubsub"].subscribe(TOPIC):
        yield text


app = LiveGQL(
    SDL, resolvers={"Query": {"pid": pid}, "Mutation": {"send": send}, "Subscription": {"messages": messages}}
)
