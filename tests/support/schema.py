"""A small schema that exercises queries, mutations, subscriptions, errors and the context."""

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLResolveInfo

SDL = """
type Query {
  hello(name: String = "world"): String!
  boom: String
  whoami: String
  add(a: Int!, b: Int!): Int!
}
type Mutation {
  publish(topic: String!, text: String!): Boolean!
}
type Subscription {
  count(to: Int!): Int!
  topic(name: String!): String!
  failing: Int!
}
"""


def make_resolvers() -> dict[str, dict[str, Any]]:
    def hello(_: Any, __: GraphQLResolveInfo, name: str) -> str:
        return f"Hello, {name}!"

    def boom(_: Any, __: GraphQLResolveInfo) -> str:
        raise RuntimeError("secret database password leaked")

    def whoami(_: Any, info: GraphQLResolveInfo) -> str | None:
        user: str | None = info.context.get("user")
        return user

    def add(_: Any, __: GraphQLResolveInfo, a: int, b: int) -> int:
        return a + b

    async def publish(_: Any, info: GraphQLResolveInfo, topic: str, text: str) -> bool:
        await info.context["pubsub"].publish(topic, text)
        return True

    async def count(_: Any, __: GraphQLResolveInfo, to: int) -> AsyncIterator[int]:
        for value in range(1, to + 1):
            yield value

    async def topic(_: Any, info: GraphQLResolveInfo, name: str) -> AsyncIterator[str]:
        async for text in info.context["pubsub"].subscribe(name):
            yield text

    async def failing(_: Any, __: GraphQLResolveInfo) -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("source broke")

    return {
        "Query": {"hello": hello, "boom": boom, "whoami": whoami, "add": add},
        "Mutation": {"publish": publish},
        "Subscription": {"count": count, "topic": topic, "failing": failing},
    }
