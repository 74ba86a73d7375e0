"""The Redis broker's command side: the publish script and paged stream reads, over a lazily made pool.

Connections belong to an event loop, and the backend is built at import time, so nothing connects until a
coroutine runs; a different running loop (a new test, a restarted app) gets fresh connections.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection, parse_url
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.maint_notifications import MaintNotificationsConfig

from livegql.broker.redis_script import PAGE_LUA, PUBLISH_LUA, ZERO, Event, Key, format_key, parse_id
from livegql.core.errors import BrokerUnavailableError, ConfigurationError
from livegql.core.json import loads

CONNECTION_LOST = (RedisConnectionError, RedisTimeoutError, OSError)
"""What a lost or unreachable Redis raises (BusyLoadingError, while it reloads its data, is among them)."""


@dataclass(frozen=True, slots=True)
class Page:
    """One atomic look at a stream: its state and the entries after a start ID (see PAGE_LUA)."""

    exists: bool
    last: Key
    deleted: Key
    events: list[Event]


class StreamStore:
    """Runs commands on a pool of connections separate from the pub/sub one; remembers if the last failed."""

    def __init__(self, url: str, *, connect_timeout: float, socket_timeout: float, max_connections: int) -> None:
        try:
            options = parse_url(url)
        except ValueError as exc:
            raise ConfigurationError(f"invalid Redis URL {url!r}: {exc}") from None
        self.where = options.get("path") or f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"
        self._url = url
        self._connect_timeout = connect_timeout
        self._max_connections = max_connections
        # Bounds so that an unreachable Redis fails a publish quickly instead of hanging it: connecting, and
        # a whole command (connecting included). redis-py's own socket_timeout is not used: it wraps every
        # write in asyncio.wait_for, a task per command that on Python 3.11 can swallow a cancellation.
        self.write_timeout = socket_timeout
        self.command_timeout = connect_timeout + socket_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Redis | None = None
        self._publish: AsyncScript | None = None
        self._page: AsyncScript | None = None
        self.ok = True

    def _pool(self) -> ConnectionPool:
        # Blocking: a burst of publishes waits for a free connection (bounded) instead of failing at once.
        # RESP2: the pub/sub reader parses RESP2 replies (redis-py 8 defaults to RESP3, whose maintenance
        # notifications need RESP3 too).
        pool = BlockingConnectionPool.from_url(
            self._url,
            max_connections=self._max_connections,
            timeout=self.write_timeout,
            protocol=2,
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
        )
        # Over the URL's query too. No retries inside redis-py: a retried script could publish twice;
        # callers see the failure instead (and retry with an idempotency key). No redis-py health checks:
        # on the pub/sub connection they would read replies from under the reader.
        pool.connection_kwargs.update(
            protocol=2,
            retry=None,
            retry_on_error=[],
            socket_connect_timeout=self._connect_timeout,
            socket_timeout=None,
            health_check_interval=0,
        )
        return pool

    def _connected(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A client of another (finished) loop is abandoned, not closed: its sockets belong to that loop.
            self._loop = loop
            self._client = Redis(connection_pool=self._pool())
            self._publish = self._client.register_script(PUBLISH_LUA)
            self._page = self._client.register_script(PAGE_LUA)
        return self._client

    def pubsub_connection(self) -> AbstractConnection:
        """A new, unconnected connection for the one pub/sub reader (not from the pool: it never returns)."""
        pool = self._pool()
        return pool.connection_class(**pool.connection_kwargs)

    async def publish(self, topic: str, keys: list[str], args: list[str | int]) -> str:
        """Run the publish script; Redis failures become BrokerUnavailableError naming the topic."""
        client = self._connected()
        assert self._publish is not None
        try:
            async with asyncio.timeout(self.command_timeout):
                raw = await self._publish(keys=keys, args=args, client=client)
        except CONNECTION_LOST as exc:  # our timeout's TimeoutError is an OSError
            self.ok = False
            raise BrokerUnavailableError(
                f"cannot publish to {topic!r}: Redis at {self.where} unreachable ({exc})"
            ) from exc
        except RedisError as exc:  # refused (OOM, READONLY, ...) or not Redis at all (a protocol error)
            self.ok = False
            raise BrokerUnavailableError(f"cannot publish to {topic!r}: Redis at {self.where} failed ({exc})") from exc
        self.ok = True
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def page(self, stream: str, after: Key, end: str, count: int) -> Page:
        """Entries of `stream` in (after, end], at most `count`, with the stream's state at that instant.

        Raises what redis-py raises; CONNECTION_LOST when Redis is unreachable.
        """
        client = self._connected()
        assert self._page is not None
        try:
            async with asyncio.timeout(self.command_timeout):
                reply = await self._page(keys=[stream], args=[format_key(after), end, count], client=client)
        except CONNECTION_LOST:
            self.ok = False
            raise
        self.ok = True
        return _parse_page(reply)

    async def ping(self) -> None:
        """One PING, bounded by the connect timeout; records whether Redis answered (never raises for that)."""
        client = self._connected()
        try:
            async with asyncio.timeout(self._connect_timeout):
                await client.ping()
        except (RedisError, *CONNECTION_LOST):
            self.ok = False
        else:
            self.ok = True

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()


def _parse_page(reply: list[Any]) -> Page:
    if not reply[0]:
        return Page(False, ZERO, ZERO, [])
    events: list[Event] = []
    for raw_id, fields in reply[3]:
        # Fields are ["p", payload]: the only field the publish script writes.
        events.append((parse_id(raw_id), raw_id.decode(), loads(fields[1])))
    return Page(True, parse_id(reply[1]), parse_id(reply[2]), events)
