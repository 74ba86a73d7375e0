"""`PubSub`, the public face of the broker: publish to a topic, subscribe to a topic."""

from typing import Any

from livegql.broker.base import Backend, Subscription
from livegql.broker.memory import DEFAULT_MAX_QUEUE, MemoryBackend
from livegql.broker.scope import track

INVALIDATION_TOPIC = "livegql:invalidate"
"""Reserved topic: live-query invalidations travel on it (payload: a list of resource keys)."""


class PubSub:
    """Topic-based publish/subscribe shared by resolvers (`info.context["pubsub"]`) and application code.

    `PubSub()` is in-memory: every subscriber in this process receives every payload published after it
    subscribed, in order. A subscriber more than `max_queue` events behind gets `SlowConsumerError`
    (never a silent gap).
    """

    def __init__(self, backend: Backend | None = None, *, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        self.backend: Backend = backend if backend is not None else MemoryBackend(max_queue=max_queue)

    async def publish(self, topic: str, payload: Any) -> None:
        """Deliver `payload` to every current subscriber of `topic`."""
        await self.backend.publish(topic, payload)

    async def invalidate(self, *keys: str) -> None:
        """Tell every live query that read one of `keys` (`"Message:42"`, `"Query.messages"`) to re-execute.

        Travels through the broker like an event, so live queries served by other processes sharing the
        broker are refreshed too.
        """
        if keys:
            await self.backend.publish(INVALIDATION_TOPIC, list(keys))

    def subscribe(self, topic: str) -> Subscription:
        """Subscribe now; iterate the result for payloads. Close it (or `async with` it) when done."""
        subscription = self.backend.subscribe(topic)
        track(subscription)
        return subscription

    def subscriber_count(self, topic: str | None = None) -> int:
        """Live subscribers of `topic`, or of every topic."""
        return self.backend.subscriber_count(topic)

    def topic_count(self) -> int:
        """Topics that have at least one subscriber."""
        return self.backend.topic_count()

    async def close(self) -> None:
        """End every subscription and release the backend."""
        await self.backend.close()
