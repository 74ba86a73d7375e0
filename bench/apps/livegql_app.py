"""The benchmark schema on livegql: SDL plus a resolver map, events through livegql's own PubSub.

Of the Python servers, livegql alone also serves the live scenario's fields, on top of the shared SDL (as does
bench/node/yoga.mjs): `board` (watched with `query Board @live { board { id version stamp } }`), `liveExecutions`
(how many times `board` ran) and `bump(stamp)`, which changes the board and invalidates `Query.board`. The stall
scenario also asks for `Board.padding(size)`, so that each live result is a few KiB.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLResolveInfo

from bench.apps.common import SDL, Sequencer, make_items
from livegql import LiveGQL, PubSub

LIVE_SDL = """
extend type Query { board: Board!, liveExecutions: Int! }
type Board { id: ID!, version: Int!, stamp: String!, padding(size: Int!): String! }
extend type Mutation { bump(stamp: String!): Int! }
"""
sequencer = Sequencer()


@dataclass
class Board:
    """The live scenario's one resource: `stamp` is the driver's perf_counter_ns when it sent the last bump."""

    version: int = 0
    stamp: str = "0"
    executions: int = 0  # of the `board` resolver: one per invalidation, however many clients watch


board_state = Board()


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


def board(_: Any, __: GraphQLResolveInfo) -> dict[str, Any]:
    board_state.executions += 1
    return {"id": "board", "version": board_state.version, "stamp": board_state.stamp}


def padding(_: Any, __: GraphQLResolveInfo, size: int) -> str:
    """`size` bytes that make a live result big enough to fill a stalled client's buffers (the stall scenario)."""
    return "x" * max(0, min(size, 1 << 20))


def live_executions(_: Any, __: GraphQLResolveInfo) -> int:
    return board_state.executions


async def bump(_: Any, info: GraphQLResolveInfo, stamp: str) -> int:
    board_state.version += 1
    board_state.stamp = stamp
    await info.context["pubsub"].invalidate("Query.board")
    return board_state.version


# Protocol-level pings off, as the brief's comparison asks; transport-level pings stay each server's default.
app = LiveGQL(
    SDL + LIVE_SDL,
    pubsub=PubSub(),
    keepalive_interval=None,
    # The load generator is one client address opening thousands of sockets: lift the per-address and total
    # connection limits, as the other servers have none.
    max_connections_per_client=1_000_000,
    max_connections=1_000_000,
    resolvers={
        "Query": {"hello": hello, "items": items, "board": board, "liveExecutions": live_executions},
        "Mutation": {"publish": publish, "bump": bump},
        "Subscription": {"topic": topic},
        "Board": {"padding": padding},
    },
)
