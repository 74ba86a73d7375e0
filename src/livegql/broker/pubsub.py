"""`PubSub`, the public face of the broker: publish to a topic, subscribe to a topic (or resume one)."""

import os
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from livegql.broker.base import Backend, Subscription
from livegql.broker.memory import DEFAULT_MAX_QUEUE, MemoryBackend
from livegql.broker.retention import Retention
from livegql.broker.scope import current_scope
from livegql.core.errors import ConfigurationError

INVALIDATION_TOPIC = "livegql:invalidate"
"""Reserved topic: live-query invalidations travel on it (payload: a list of resource keys). `PubSub.publish`
and `PubSub.subscribe` refuse it, so an app that lets clients name topics cannot let them forge or read
invalidations; only `PubSub.invalidate` and the live-query engine (through the backend) use it."""

REVOCATION_TOPIC = "livegql:revoke"
"""Reserved topic: `LiveGQL.revoke` announces revoked principals on it to every process sharing the broker.
Refused by `PubSub.publish` and `PubSub.subscribe` for the same reason: a client must not revoke others."""

RESERVED_TOPICS = frozenset({INVALIDATION_TOPIC, REVOCATION_TOPIC})

BROKER_URL_ENV = "LIVEGQL_BROKER_URL"
"""The broker `LiveGQL` uses when given no `pubsub` (`livegql serve --broker URL` sets it)."""

_URL_OPTIONS = {"retention_count": int, "retention_seconds": float, "max_queue": int, "key_prefix": str}


class PubSub:
    """Topic-based publish/subscribe shared by resolvers (`info.context["pubsub"]`) and application code.

    `PubSub()` is in-memory; `PubSub.from_url("redis://...")` shares topics among every process using that
    Redis. Every subscriber receives every payload published after it subscribed, in order, each with a
    position; a subscriber more than `max_queue` events behind gets `SlowConsumerError` (never a silent gap).
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        retention: Retention | None = None,
    ) -> None:
        if backend is None:
            backend = MemoryBackend(max_queue=max_queue, retention=retention or Retention())
        self.backend: Backend = backend

    @classmethod
    def from_url(cls, url: str) -> "PubSub":
        """`memory://` or `redis://[:password@]host[:port][/db]` (also `rediss://`, `unix://`).

        Query parameters tune the broker: `retention_count` (events kept per topic for resuming),
        `retention_seconds` (their maximum age), `max_queue` (a subscriber's backlog limit) and, for Redis,
        `key_prefix` (default `livegql:`; apps sharing one Redis keep apart by it), e.g.
        `redis://127.0.0.1:6379/0?retention_count=10000&retention_seconds=3600`.
        """
        parts = urlsplit(url)
        options: dict[str, Any] = {}
        kept: list[tuple[str, str]] = []
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            convert = _URL_OPTIONS.get(name)
            if convert is None:
                kept.append((name, value))
                continue
            try:
                options[name] = convert(value)
            except ValueError:
                raise ConfigurationError(f"broker URL option {name}={value!r} is not a number") from None
            if name == "key_prefix" and not value:
                raise ConfigurationError("broker URL option key_prefix must not be empty")
        default = Retention()
        retention = Retention(
            count=options.pop("retention_count", default.count),
            seconds=options.pop("retention_seconds", default.seconds),
        )
        if parts.scheme == "memory":
            unknown = [name for name, _ in kept] + (["key_prefix"] if "key_prefix" in options else [])
            if unknown:
                raise ConfigurationError(f"unknown memory:// option(s): {', '.join(unknown)}")
            return cls(retention=retention, **options)
        if parts.scheme in ("redis", "rediss", "unix"):
            from livegql.broker.redis import RedisBackend  # redis-py is imported only when used

            query = "&".join(f"{name}={value}" for name, value in kept)
            redis_url = parts._replace(query=query).geturl()
            return cls(RedisBackend(redis_url, retention=retention, **options))
        raise ConfigurationError(f"unsupported broker URL {url!r}: expected memory:// or redis://")

    @classmethod
    def from_environment(cls) -> "PubSub":
        """The broker named by `LIVEGQL_BROKER_URL`, in memory when it is unset."""
        return cls.from_url(os.environ.get(BROKER_URL_ENV) or "memory://")

    async def publish(self, topic: str, payload: Any, *, idempotency_key: str | None = None) -> str:
        """Deliver `payload` to every current subscriber of `topic`; returns the event's position.

        Raises `BrokerUnavailableError` if the broker cannot accept it: the event was not published. A caller
        that retries passes the same `idempotency_key` each time: an attempt the broker executed but could not
        confirm (the connection broke before the reply) is then not added twice. `ValueError` for the reserved
        reserved topics (`RESERVED_TOPICS`).
        """
        _not_reserved(topic)
        return await self.backend.publish(topic, payload, idempotency_key=idempotency_key)

    async def invalidate(self, *keys: str) -> None:
        """Tell every live query that read one of `keys` (`"Message:42"`, `"Query.messages"`) to re-execute.

        Travels through the broker like an event, so live queries served by other processes sharing the
        broker are refreshed too.
        """
        if keys:
            await self.backend.publish(INVALIDATION_TOPIC, list(keys))

    def subscribe(self, topic: str, *, after: str | None = None) -> Subscription:
        """Subscribe now; iterate the result for payloads. Close it (or `async with` it) when done.

        With `after` (a position from an earlier event), every retained event after it comes first. Inside a
        subscription operation the client's resume position applies by itself. `ValueError` for the reserved
        reserved topics (`RESERVED_TOPICS`).
        """
        _not_reserved(topic)
        scope = current_scope()
        if scope is None:
            return self.backend.subscribe(topic, after=after)
        subscription = self.backend.subscribe(
            topic, after=after if after is not None else scope.resume_after, on_live=scope.on_live
        )
        scope.track(subscription)
        return subscription

    def subscriber_count(self, topic: str | None = None) -> int:
        """Live subscribers of `topic`, or of every topic."""
        return self.backend.subscriber_count(topic)

    def topic_count(self) -> int:
        """Topics that have at least one subscriber."""
        return self.backend.topic_count()

    @property
    def healthy(self) -> bool:
        """Whether the broker was reachable at its last use (always, in memory)."""
        return self.backend.healthy

    async def check(self) -> bool:
        """Ask the broker now whether it is reachable (a bounded PING for Redis)."""
        return await self.backend.check()

    async def close(self) -> None:
        """End every subscription and release the backend."""
        await self.backend.close()


def _not_reserved(topic: str) -> None:
    if topic in RESERVED_TOPICS:
        use = "PubSub.invalidate" if topic == INVALIDATION_TOPIC else "LiveGQL.revoke"
        raise ValueError(f"topic {topic!r} is reserved for livegql itself: use {use}")
