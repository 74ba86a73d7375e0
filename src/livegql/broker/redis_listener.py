"""The Redis broker's one pub/sub connection: a reader that dispatches in order, a keeper that (un)subscribes.

Per connection ("session"), the keeper SUBSCRIBEs every local topic once and UNSUBSCRIBEs topics whose last
local subscriber left, and PINGs so that a silently dead connection is noticed. The reader handles each
SUBSCRIBE confirmation inline: it reads the stream's state (or, after a reconnect, the entries it missed)
before reading on, so a topic goes live with no gap and in order. A lost connection is retried with
jittered exponential backoff until the backend closes; local subscribers stay registered throughout.
"""

import asyncio
import functools
import logging
import random
from collections import deque
from collections.abc import Callable

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from livegql.broker.redis_resp import ReplyReader
from livegql.broker.redis_script import ZERO, format_key
from livegql.broker.redis_store import CONNECTION_LOST, StreamStore
from livegql.broker.redis_topics import Topic, TopicTable
from livegql.core.errors import HistoryGoneError

logger = logging.getLogger("livegql.broker")

CATCH_UP_PAGE = 1000
"""Entries read per XRANGE when catching a topic up after a reconnect."""


class Listener:
    """Owns the pub/sub connection and the one task reading it (started lazily, stopped by close())."""

    def __init__(
        self,
        table: TopicTable,
        store: StreamStore,
        *,
        connect: Callable[[], AbstractConnection],
        health_interval: float,
        reconnect_delay: tuple[float, float],
    ) -> None:
        self._table = table
        self._store = store
        self._connect = connect
        self._health_interval = health_interval
        self._first_delay, self._max_delay = reconnect_delay
        self._delay = self._first_delay
        self._task: asyncio.Task[None] | None = None
        # Per session: the topic each channel was last SUBSCRIBEd for, and the topics awaiting confirmation
        # in the order the (un)subscribe replies will come (None for an UNSUBSCRIBE).
        self._upstream: dict[str, Topic] = {}
        self._pending: dict[bytes, deque[Topic | None]] = {}
        self._changed: asyncio.Event | None = None
        # Liveness: any reply proves the connection alive (a PONG may sit behind a backlog of messages).
        self._heard = True
        self.down = False  # the connection is lost and not yet re-established

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            self._task = loop.create_task(self._run(), name="livegql-redis-listener")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            # Again if need be: on Python 3.11 a cancellation can be lost inside library code (wait_for).
            while not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=1.0)  # does not raise the task's CancelledError
        self._table.notify = _nothing
        self.down = False

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except Exception as exc:
                cause = exc.exceptions[0] if isinstance(exc, ExceptionGroup) else exc
                self._lost(cause)
            delay, self._delay = self._delay, min(self._delay * 2, self._max_delay)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # jitter: processes do not reconnect in step

    def _lost(self, cause: BaseException) -> None:
        if self.down:
            pass  # logged when it went down; not again on every failed attempt
        elif isinstance(cause, CONNECTION_LOST):
            logger.warning("Redis pub/sub at %s lost (%s); reconnecting", self._store.where, cause)
        else:
            logger.error("Redis pub/sub reader at %s failed; reconnecting", self._store.where, exc_info=cause)
        self.down = True
        self._table.notify = _nothing
        self._not_live()

    def _not_live(self) -> None:
        for topic in self._table.topics.values():
            topic.live = False  # subscribers joining now wait for the re-sync; current ones keep their place

    async def _session(self) -> None:
        connection = self._connect()
        try:
            async with asyncio.timeout(self._store.command_timeout):
                await connection.connect()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            reader = ReplyReader.of(connection)  # after redis-py's handshake the stream is ours alone
            self._begin()
            async with asyncio.TaskGroup() as group:
                group.create_task(self._keep(connection))
                group.create_task(self._read(reader))
        finally:
            await connection.disconnect(nowait=True)

    def _begin(self) -> None:
        if self.down:
            logger.info("Redis pub/sub at %s reconnected", self._store.where)
        self.down = False
        self._upstream, self._pending, self._heard = {}, {}, True
        self._not_live()  # also topics left live by a session of an earlier event loop
        self._changed = changed = asyncio.Event()
        self._table.notify = changed.set
        self._table.dirty = dict.fromkeys(self._table.topics)  # a new connection subscribes to everything

    async def _keep(self, connection: AbstractConnection) -> None:
        changed = self._changed
        assert changed is not None
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self._health_interval
        while True:
            changed.clear()
            await self._reconcile(connection)
            if loop.time() < next_ping:
                try:
                    async with asyncio.timeout_at(next_ping):
                        await changed.wait()
                    continue
                except TimeoutError:
                    pass
            # A PING per interval, however busy: a peer that vanished without a FIN never answers one.
            if not self._heard:
                raise RedisConnectionError(f"nothing received for {self._health_interval}s, not even a PONG")
            self._heard = False
            await self._send(connection, "PING")
            next_ping = loop.time() + self._health_interval

    async def _reconcile(self, connection: AbstractConnection) -> None:
        """Bring the upstream subscriptions of the dirty topics in line with the table, in one write each."""
        table, upstream = self._table, self._upstream
        names, table.dirty = table.dirty, {}
        drop: list[bytes] = []
        add: list[bytes] = []
        for name in names:
            wanted, current = table.topics.get(name), upstream.get(name)
            if wanted is current:
                continue
            if current is not None:
                # Replaced or abandoned: its replies come before those of any new SUBSCRIBE of the channel.
                drop.append(current.channel)
                self._pending.setdefault(current.channel, deque()).append(None)
                del upstream[name]
            if wanted is not None:
                add.append(wanted.channel)
                self._pending.setdefault(wanted.channel, deque()).append(wanted)
                upstream[name] = wanted
        if drop:  # never an empty UNSUBSCRIBE: that would drop every channel
            await self._send(connection, "UNSUBSCRIBE", *drop)
        if add:
            await self._send(connection, "SUBSCRIBE", *add)

    async def _send(self, connection: AbstractConnection, *command: str | bytes) -> None:
        # Bounded: a peer that stopped reading must not wedge the keeper (and with it the PING check).
        async with asyncio.timeout(self._store.write_timeout):
            await connection.send_command(*command)

    async def _read(self, reader: ReplyReader) -> None:
        by_channel = self._table.by_channel
        while True:
            replies = await reader.batch()  # no timeout: the keeper's PING detects a dead peer
            # Reset the backoff only once Redis answers: a server that accepts connections and then refuses
            # (an ACL denying SUBSCRIBE, say) is retried every couple of seconds, not in a tight loop.
            self._heard, self._delay = True, self._first_delay
            for reply in replies:
                kind = reply[0]
                if kind == b"message":
                    topic = by_channel.get(reply[1])
                    if topic is not None and topic.live:
                        try:
                            topic.receive(reply[2])
                        except ValueError:
                            logger.warning("ignored a malformed message on Redis channel %r", reply[1])
                elif kind == b"subscribe":
                    topic = self._confirmed(reply[1])
                    if topic is not None:
                        await self._sync(topic)
                elif kind == b"unsubscribe":
                    self._confirmed(reply[1])

    def _confirmed(self, channel: bytes) -> Topic | None:
        """The topic a (un)subscribe reply confirms, if it is still the table's topic for that channel."""
        waiting = self._pending.get(channel)
        topic = waiting.popleft() if waiting else None
        if waiting is not None and not waiting:
            del self._pending[channel]
        if topic is None or topic.live or self._table.by_channel.get(channel) is not topic:
            return None
        return topic

    async def _sync(self, topic: Topic) -> None:
        """Subscribed: every event after the topic's position now arrives on the channel too; go live."""
        if topic.last is None:
            state = await self._store.page(topic.stream, ZERO, "+", 0)
            topic.last = state.last if state.exists else ZERO
        else:
            await self._catch_up(topic)
        topic.go_live()

    async def _catch_up(self, topic: Topic) -> None:
        """Dispatch what Redis accepted while the connection was down (the channel's copies were lost)."""
        while True:
            assert topic.last is not None
            last = topic.last
            page = await self._store.page(topic.stream, last, "+", CATCH_UP_PAGE)
            if not page.exists:
                return  # Redis lost its data (restarted without persistence): nothing is left to replay
            if page.deleted > last:
                message = (
                    f"events of topic {topic.name!r} after {format_key(last)!r} were trimmed "
                    "before they could be delivered (the connection to Redis was down)"
                )
                topic.fail(functools.partial(HistoryGoneError, message))
                topic.last = max(last, page.last)
                return
            for event in page.events:
                topic.dispatch(event)
            if len(page.events) < CATCH_UP_PAGE:
                return


def _nothing() -> None:
    pass
