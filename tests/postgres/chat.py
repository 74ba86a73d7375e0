"""A small chat app over a PostgreSQL table, live by `PostgresSource` only: no resolver invalidates or publishes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from graphql import GraphQLResolveInfo
from psycopg import sql

from livegql import LiveGQL, PubSub, add_resource_keys
from livegql.postgres import Change, PostgresSource, TableMapping
from tests.support.postgres import execute
from tests.support.server import LiveServer

SDL = """
type Message { id: ID!, room: String!, text: String! }
type Event { op: String!, id: ID!, text: String }
type Query { messages(room: String!): [Message!]! }
type Subscription { changes(room: String!): Event! }
"""
LIVE = "query ($room: String!) @live { messages(room: $room) { id text } }"
CHANGES = "subscription ($room: String!) { changes(room: $room) { op id text } }"


class Chat:
    """The `messages` table of one schema, the app serving it and the source feeding it."""

    def __init__(self, dsn: str, schema: str, source_dsn: str | None = None, **source_options: Any) -> None:
        self.dsn = dsn
        self.schema = schema
        self.table = sql.Identifier(schema, "messages")
        self.pubsub = PubSub()
        mapping = TableMapping(
            "messages",
            schema=schema,
            columns=("id", "room"),
            keys=lambda row: [f"Message:{row['id']}", f"Room:{row['room']}"],
            topic=lambda change: f"room:{change.row['room']}" if change.row else None,
            payload=self._event,
        )
        # The schema's uuid name makes the channel, function and trigger names this test's own.
        self.source = PostgresSource(
            source_dsn or dsn, self.pubsub, [mapping], name=f"lg_{schema[-32:]}", schema=schema, **source_options
        )
        self.app = LiveGQL(SDL, resolvers=self._resolvers(), pubsub=self.pubsub, keepalive_interval=None)

    async def create(self) -> None:
        await execute(
            self.dsn, sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY, room text, text text)").format(self.table)
        )
        await self.source.install()

    async def write(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Another writer, as psql would be: `{}` in `statement` stands for the table."""
        return await execute(self.dsn, sql.SQL(statement).format(self.table), params)

    async def _event(self, change: Change) -> dict[str, Any]:
        # The notification carries only id and room: the text is fetched by key, as an app would.
        assert change.row is not None
        text = None
        if change.op != "DELETE":
            rows = await execute(
                self.dsn, sql.SQL("SELECT text FROM {} WHERE id = %s").format(self.table), (change.row["id"],)
            )
            text = rows[0][0] if rows else None
        return {"op": change.op, "id": change.row["id"], "text": text}

    def _resolvers(self) -> dict[str, dict[str, Any]]:
        async def messages(_: Any, info: GraphQLResolveInfo, room: str) -> list[dict[str, Any]]:
            # Room:R for new rows, the table key for a resync after the LISTEN connection was re-made.
            add_resource_keys(info, f"Room:{room}", self.source.mapping("messages", self.schema).table_key)
            statement = sql.SQL("SELECT id, room, text FROM {} WHERE room = %s ORDER BY id").format(self.table)
            rows = await execute(self.dsn, statement, (room,))
            return [{"id": id_, "room": room_, "text": text} for id_, room_, text in rows]

        def changes(_: Any, info: GraphQLResolveInfo, room: str) -> AsyncIterator[Any]:
            pubsub: PubSub = info.context["pubsub"]
            subscription: AsyncIterator[Any] = pubsub.subscribe(f"room:{room}")
            return subscription

        return {"Query": {"messages": messages}, "Subscription": {"changes": changes}}


@asynccontextmanager
async def listening(server: LiveServer, source: PostgresSource) -> AsyncIterator[PostgresSource]:
    """Run `source` on the server's loop, where its PubSub lives."""
    await server.acall(source.start())
    try:
        yield source
    finally:
        await server.acall(source.close())


async def connects(server: LiveServer, source: PostgresSource) -> int:
    async def read() -> int:
        return source.connects

    return await server.acall(read())


async def backend_pid(server: LiveServer, source: PostgresSource) -> int | None:
    async def read() -> int | None:
        return source.backend_pid

    return await server.acall(read())


async def write_unheard(chat: Chat, statement: str) -> None:
    """A write the triggers never see ("replica" sessions skip them): stands for one committed while the LISTEN
    connection is down, whose notification nobody heard."""
    async with await psycopg.AsyncConnection.connect(chat.dsn, autocommit=True) as connection:
        await connection.execute("SET session_replication_role = replica")
        await connection.execute(sql.SQL(statement).format(chat.table))
