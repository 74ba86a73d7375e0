"""Installing the triggers: idempotent, undone by uninstall, safe with odd identifiers; payloads kept under
NOTIFY's limit; one bad mapping does not stop the source. Each source runs on the test's own loop."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from psycopg import sql

from livegql import PubSub
from livegql.broker import INVALIDATION_TOPIC, Subscription
from livegql.postgres import Change, PostgresSource, TableMapping
from tests.support.postgres import execute, own_schema

LIMIT = 5.0


async def receive(subscription: Subscription) -> Any:
    async with asyncio.timeout(LIMIT):
        return await anext(subscription)


@asynccontextmanager
async def running(
    dsn: str, schema: str, tables: Sequence[TableMapping], name: str | None = None
) -> AsyncIterator[tuple[PostgresSource, Subscription]]:
    """An installed, listening source, and a subscription to the invalidations it makes."""
    pubsub = PubSub()
    source = PostgresSource(dsn, pubsub, tables, schema=schema, name=name or f"lg_{uuid.uuid4().hex}")
    await source.install()
    invalidations = pubsub.backend.subscribe(INVALIDATION_TOPIC)
    try:
        async with source:
            yield source, invalidations
    finally:
        await pubsub.close()


async def catalog(dsn: str, schema: str) -> tuple[int, int]:
    """(user triggers on the schema's tables, functions in the schema)."""
    rows = await execute(
        dsn,
        "SELECT (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal),"
        " (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s)",
        (schema, schema),
    )
    return int(rows[0][0]), int(rows[0][1])


def ids(row: Any) -> list[str]:
    return [f"Item:{row['id']}"]


async def test_install_is_idempotent_and_uninstall_removes_everything(dsn: str, schema: str) -> None:
    table = sql.Identifier(schema, "items")
    await execute(dsn, sql.SQL("CREATE TABLE {} (id int PRIMARY KEY)").format(table))
    async with running(dsn, schema, [TableMapping("items", keys=ids, schema=schema)]) as (source, invalidations):
        await source.install()  # again: replaces, never doubles
        assert await catalog(dsn, schema) == (2, 1)  # the row trigger, the TRUNCATE trigger, one function
        await execute(dsn, sql.SQL("INSERT INTO {} VALUES (1)").format(table))
        await execute(dsn, sql.SQL("INSERT INTO {} VALUES (2)").format(table))
        # One notification per change: a doubled trigger would repeat Item:1 before Item:2.
        assert await receive(invalidations) == ["Item:1"]
        assert await receive(invalidations) == ["Item:2"]

        await source.uninstall()
        await source.uninstall()  # already gone: nothing to do
        assert await catalog(dsn, schema) == (0, 0)
        assert await execute(dsn, sql.SQL("SELECT count(*) FROM {}").format(table)) == [(2,)]


async def test_odd_identifiers_are_quoted_everywhere(dsn: str) -> None:
    odd = 'we"ird; DROP TABLE x; --'
    async with own_schema(dsn, f"{odd} {uuid.uuid4().hex}") as schema:
        table, column = 'Mess "ages"; --', "i d'"
        name = sql.Identifier(schema, table)
        await execute(dsn, sql.SQL("CREATE TABLE {} ({} int PRIMARY KEY)").format(name, sql.Identifier(column)))
        mapping = TableMapping(table, keys=lambda row: [f"Odd:{row[column]}"], columns=(column,), schema=schema)
        async with running(dsn, schema, [mapping], name=f'l"g; {uuid.uuid4().hex[:16]}') as (source, invalidations):
            assert source.channel.startswith('l"g; ')
            await execute(dsn, sql.SQL("INSERT INTO {} VALUES (7)").format(name))
            assert await receive(invalidations) == ["Odd:7"]
            await source.uninstall()
        assert await catalog(dsn, schema) == (0, 0)
        assert await execute(dsn, sql.SQL("SELECT * FROM {}").format(name)) == [(7,)]


async def test_columns_too_large_for_a_notification_send_the_key_alone(dsn: str, schema: str) -> None:
    table = sql.Identifier(schema, "docs")
    await execute(dsn, sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, body text)").format(table))
    changes: list[Change] = []

    def keys(row: Any) -> list[str]:
        return [f"Doc:{row['id']}"]

    def topic(change: Change) -> str:
        changes.append(change)
        return "docs"

    mapping = TableMapping("docs", keys=keys, topic=topic, columns=("id", "body"), schema=schema)
    async with running(dsn, schema, [mapping]) as (_, invalidations):
        # The writer's transaction succeeds although the body alone is over NOTIFY's 8000 bytes.
        await execute(dsn, sql.SQL("INSERT INTO {} VALUES (1, repeat('x', 9000)), (2, 'small')").format(table))
        assert await receive(invalidations) == ["Doc:1"]
        assert await receive(invalidations) == ["Doc:2"]
    assert [(change.new, change.partial) for change in changes] == [
        ({"id": 1}, True),
        ({"id": 2, "body": "small"}, False),
    ]


async def test_a_failing_mapping_does_not_stop_the_source(dsn: str, schema: str) -> None:
    table = sql.Identifier(schema, "items")
    await execute(dsn, sql.SQL("CREATE TABLE {} (id int PRIMARY KEY)").format(table))

    def keys(row: Any) -> list[str]:
        if row["id"] == 1:
            raise RuntimeError("a bug in the app's mapping")
        return [f"Item:{row['id']}"]

    async with running(dsn, schema, [TableMapping("items", keys=keys, schema=schema)]) as (source, invalidations):
        await execute(dsn, sql.SQL("INSERT INTO {} VALUES (1)").format(table))
        await execute(dsn, sql.SQL("INSERT INTO {} VALUES (2)").format(table))
        assert await receive(invalidations) == ["Item:2"]
        assert source.changes == 2
