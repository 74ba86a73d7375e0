"""The Redis broker backend: topics shared by every process using one Redis, with resumable history.

Each topic is a Redis Stream (`{prefix}stream:{topic}#{len(topic)}`, trimmed by count and age) plus a pub/sub
channel (`{prefix}events:{topic}#{len(topic)}`; the length keeps every prefix and topic apart, see
redis_topics); one Lua script appends to the stream and announces the entry on the channel, so an event's
position is its Stream entry ID. A process holds one pub/sub connection, one upstream SUBSCRIBE per topic
whatever its number of local subscribers, and a separate pool for commands.

Modules: redis_script (IDs, Lua), redis_store (commands), redis_topics (local topics, dispatch),
redis_subscription (one subscriber, replay), redis_listener (the pub/sub connection and reconnection),
redis_resp (the pub/sub reply parser).
"""

from typing import Any

from livegql.broker.base import OnLive
from livegql.broker.memory import DEFAULT_MAX_QUEUE
from livegql.broker.redis_listener import Listener
from livegql.broker.redis_store import StreamStore
from livegql.broker.redis_subscription import Plumbing, RedisSubscription
from livegql.broker.redis_topics import TopicTable, channel_name, dedupe_key, stream_key
from livegql.broker.retention import Retention
from livegql.core.json import dumps


class RedisBackend:
    """A `Backend` over Redis >= 7.0 (redis-py asyncio). Built synchronously; connects on first use.

    `connect_timeout` and `socket_timeout` bound how long a publish can take when Redis is unreachable
    (connecting, and the whole command beyond that); `max_connections` caps the command pool (publishes
    beyond it wait for a free connection); `health_interval` is how often the pub/sub connection is PINGed
    (a dead one is noticed within two intervals); `reconnect_delay` is the first and the largest pause
    between reconnection attempts.
    """

    def __init__(
        self,
        url: str,
        *,
        retention: Retention | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        key_prefix: str = "livegql:",
        connect_timeout: float = 2.0,
        socket_timeout: float = 5.0,
        health_interval: float = 5.0,
        reconnect_delay: tuple[float, float] = (0.05, 2.0),
        max_connections: int = 50,
    ) -> None:
        if max_queue <= 0:
            raise ValueError("max_queue must be positive")
        self.retention = retention or Retention()
        self.key_prefix = key_prefix
        self._store = StreamStore(
            url, connect_timeout=connect_timeout, socket_timeout=socket_timeout, max_connections=max_connections
        )
        self._table = TopicTable(key_prefix)
        self._listener = Listener(
            self._table,
            self._store,
            connect=self._store.pubsub_connection,
            health_interval=health_interval,
            reconnect_delay=reconnect_delay,
        )
        self._plumbing = Plumbing(self._table, self._store, self._listener.start, max_queue)
        self._max_age_ms = max(1, round(self.retention.seconds * 1000))
        # Trim once the excess reaches a tenth of the limit (at most one stream node of 100 entries): each
        # publish then trims rarely, and a topic keeps at most ~10% more than asked.
        self._count_slack = min(100, max(1, self.retention.count // 10))
        self._age_slack_ms = self._max_age_ms // 10

    async def publish(self, topic: str, payload: Any, *, idempotency_key: str | None = None) -> str:
        """Append `payload` to `topic` and announce it; return its position (the Stream entry ID).

        Raises `BrokerUnavailableError` when Redis cannot be reached or refuses. If the connection broke
        after Redis ran the command the event may still have been published: retry with the same
        `idempotency_key` (kept for the retention period) and it is published once, with one position.
        """
        try:
            data = dumps(payload)
        except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
            raise TypeError(f"cannot publish to {topic!r}: the payload is not JSON-serialisable ({exc})") from None
        keys = [stream_key(self.key_prefix, topic)]
        if idempotency_key is not None:
            keys.append(dedupe_key(self.key_prefix, topic, idempotency_key))
        channel = channel_name(self.key_prefix, topic)
        args: list[str | int] = [data, channel, self.retention.count, self._max_age_ms]
        args += [self._count_slack, self._age_slack_ms]
        return await self._store.publish(topic, keys, args)

    def subscribe(self, topic: str, *, after: str | None = None, on_live: OnLive | None = None) -> RedisSubscription:
        """Registers locally now; the upstream subscription, replay and any error come with the first
        `__anext__` (see `Backend.subscribe`)."""
        return RedisSubscription(self._plumbing, topic, after, on_live)

    def subscriber_count(self, topic: str | None = None) -> int:
        return self._table.subscriber_count(topic)

    def topic_count(self) -> int:
        return self._table.topic_count()

    @property
    def healthy(self) -> bool:
        """False while the pub/sub connection is down or the last command failed to reach Redis."""
        return not self._listener.down and self._store.ok

    async def check(self) -> bool:
        """PING Redis (bounded by `connect_timeout`): True if it answered and the pub/sub connection is up."""
        await self._store.ping()
        return self.healthy

    async def close(self) -> None:
        """Stop the pub/sub reader, end every subscription, release the connections."""
        await self._listener.close()
        for member in self._table.members():
            await member.aclose()
        await self._store.close()
