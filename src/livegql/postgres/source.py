"""`PostgresSource`: one LISTEN connection turning row changes into invalidations and events, re-made when it drops."""

import asyncio
import logging
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import AsyncConnection, sql

from livegql.broker import PubSub
from livegql.postgres.mapping import Change, TableMapping
from livegql.postgres.triggers import Triggers

logger = logging.getLogger("livegql.postgres")

MAX_IDENTIFIER = 63  # NAMEDATALEN - 1: PostgreSQL silently truncates longer names, which would split objects apart


class PostgresSource:
    """Listens on `channel` (default `name`) for the notifications of the triggers `install()` puts on `tables`.

    Each change invalidates its mapping's `keys` (live queries re-run) and publishes on its `topic` (subscriptions
    get an event). The listening connection is checked every `health_interval` seconds; when it drops, it is
    re-made (at once, then after `reconnect_delay` doubling up to `max_reconnect_delay`), and every mapping's
    `resync_keys` are invalidated, since the changes committed meanwhile were never heard.
    """

    def __init__(
        self,
        dsn: str,
        pubsub: PubSub,
        tables: Iterable[TableMapping],
        *,
        name: str = "livegql",
        schema: str = "public",
        channel: str | None = None,
        reconnect_delay: float = 0.05,
        max_reconnect_delay: float = 2.0,
        health_interval: float = 5.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._pubsub = pubsub
        self.tables: dict[tuple[str, str], TableMapping] = {}
        for mapping in tables:
            if (mapping.schema, mapping.table) in self.tables:
                raise ValueError(f"table {mapping.schema}.{mapping.table} is mapped twice")
            self.tables[(mapping.schema, mapping.table)] = mapping
        self.channel = channel if channel is not None else name
        for label, value in (("name", f"{name}_truncate"), ("channel", self.channel)):
            if not name or len(value.encode()) > MAX_IDENTIFIER:
                raise ValueError(f"{label} {value!r} is empty or longer than PostgreSQL's {MAX_IDENTIFIER} bytes")
        self._triggers = Triggers(name, schema, self.channel)
        self._delays = (reconnect_delay, max_reconnect_delay)
        self._health_interval = health_interval
        self._connect_timeout = connect_timeout
        self._connection: AsyncConnection[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self.connects = 0
        """LISTEN connections made so far: 1 after `start()`, one more per reconnect."""
        self.failed_connects = 0
        """Reconnection attempts that failed (each followed by a longer wait)."""
        self.changes = 0
        """Notifications handled so far."""

    def mapping(self, table: str, schema: str = "public") -> TableMapping:
        """The mapping of `schema.table` (KeyError if none): e.g. `source.mapping("messages").table_key`."""
        return self.tables[(schema, table)]

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend serving the LISTEN connection (for `pg_stat_activity`), None when down."""
        connection = self._connection
        return None if connection is None or connection.closed else connection.info.backend_pid

    async def install(self) -> None:
        """Create (or replace) the trigger function and each mapped table's triggers; safe to run again."""
        async with await self._connect() as connection:
            await self._triggers.install(connection, list(self.tables.values()))

    async def uninstall(self) -> None:
        """Drop the triggers of each mapped table and the trigger function; safe when already gone."""
        async with await self._connect() as connection:
            await self._triggers.uninstall(connection, list(self.tables.values()))

    async def start(self) -> None:
        """LISTEN (raising `psycopg.OperationalError` if PostgreSQL cannot be reached now), then keep listening in
        a task until `close()`. Every change committed from the moment this returns is heard."""
        if self._task is not None:
            raise RuntimeError("PostgresSource already started")
        self._connection = await self._listen_connection()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"livegql-postgres:{self.channel}")

    async def close(self) -> None:
        """Stop listening and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _connect(self) -> AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self._dsn, autocommit=True, connect_timeout=max(1, round(self._connect_timeout))
        )

    async def _listen_connection(self) -> AsyncConnection[Any]:
        connection = await self._connect()
        try:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except BaseException:
            await connection.close()
            raise
        self.connects += 1
        return connection

    async def _run(self) -> None:
        while True:
            connection = self._connection
            assert connection is not None
            try:
                await self._listen(connection)
            except psycopg.OperationalError as error:
                logger.warning("PostgreSQL LISTEN connection lost (%s); reconnecting", error)
            await connection.close()
            self._connection = None
            self._connection = await self._reconnect()
            await self._resync()

    async def _listen(self, connection: AsyncConnection[Any]) -> None:
        while True:
            async for notify in connection.notifies(timeout=self._health_interval):
                await self._handle(notify.payload)
            # Quiet for a while: make sure the server is still there. A vanished peer (a failover, a NAT that forgot
            # the connection) sends nothing at all, not even an error, and notifications would silently stop.
            await self._check(connection)

    async def _check(self, connection: AsyncConnection[Any]) -> None:
        check = asyncio.ensure_future(connection.execute("SELECT 1"))
        try:
            await asyncio.wait({check}, timeout=self._connect_timeout)
        finally:
            if not check.done():  # no answer in time, or close() came meanwhile
                # Closed first, then cancelled: cancelling a running query makes psycopg ask the server to cancel
                # it and wait for the answer (seconds more) on a connection already known to be silent.
                await connection.close()
                check.cancel()
                await asyncio.gather(check, return_exceptions=True)
        if check.cancelled():
            raise psycopg.OperationalError(f"no answer to a check within {self._connect_timeout}s")
        check.result()

    async def _reconnect(self) -> AsyncConnection[Any]:
        delay, limit = self._delays
        while True:
            try:
                return await self._listen_connection()
            except psycopg.OperationalError as error:
                self.failed_connects += 1
                logger.warning("PostgreSQL unreachable (%s); next try in %.2fs", error, delay)
            # Backoff between attempts, not synchronisation: nothing to wait on but time while the server is down.
            await asyncio.sleep(delay)
            delay = min(delay * 2, limit)

    async def _resync(self) -> None:
        keys: dict[str, None] = {}
        for mapping in self.tables.values():
            keys.update(dict.fromkeys(mapping.resync_keys_or_default()))
        try:
            await self._pubsub.invalidate(*keys)
        except Exception:
            logger.exception("could not invalidate the mapped tables after reconnecting to PostgreSQL")

    async def _handle(self, payload: str) -> None:
        self.changes += 1
        try:
            change = Change.parse(payload)
            mapping = self.tables.get((change.schema, change.table))
            if mapping is None:
                return  # a table this source does not map (another source sharing the channel)
            keys = mapping.keys_of(change)
            if keys:
                await self._pubsub.invalidate(*keys)
            topics = mapping.topics_of(change)
            if topics:
                event = await mapping.payload_of(change)
                for topic in topics:
                    await self._pubsub.publish(topic, event)
        except Exception:
            # One bad mapping callable or a broker hiccup must not stop every later change from being heard.
            logger.exception("could not handle a PostgreSQL change notification: %.200s", payload)
