"""What the Python servers share: the SDL, the `items(n)` builder and, for the peers, a tiny in-process pubsub."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

SDL = """
type Query { hello: String!, items(n: Int!): [Item!]! }
type Item { id: ID!, name: String!, price: Float! }
type Mutation { publish(topic: String!, text: String!): Boolean! }
type Subscription { topic(name: String!): Event! }
type Event { text: String!, seq: Int! }
"""


def make_items(n: int) -> list[dict[str, Any]]:
    """`n` small objects, so a query has a non-trivial result to complete and serialise."""
    return [{"id": str(i), "name": f"item-{i}", "price": i * 1.5} for i in range(n)]


class Sequencer:
    """Numbers the events of each topic 1, 2, 3...: subscribers check theirs arrive complete and in order."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def event(self, topic: str, text: str) -> dict[str, Any]:
        seq = self._last[topic] = self._last.get(topic, 0) + 1
        return {"text": text, "seq": seq}


class TinyPubSub:
    """The few lines an app would write without a broker: one unbounded asyncio.Queue per subscriber."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._sequencer = Sequencer()

    def publish(self, topic: str, text: str) -> None:
        event = self._sequencer.event(topic, text)
        for queue in self._queues.get(topic, ()):
            queue.put_nowait(event)

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.setdefault(topic, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[topic].discard(queue)
