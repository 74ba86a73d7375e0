"""Real PostgreSQL for tests: the machine's server (skipped when absent, a failure when CI requires it), and a
schema of each test's own (a uuid name) dropped afterwards, so tests run side by side."""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import psycopg
import pytest
from psycopg import sql

DSN_ENV = "LIVEGQL_TEST_POSTGRES_URL"
REQUIRE_ENV = "LIVEGQL_REQUIRE_POSTGRES"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _unavailable(reason: str) -> NoReturn:
    """Skip, unless this run demands PostgreSQL (CI=true or LIVEGQL_REQUIRE_POSTGRES=1): then fail."""
    if os.environ.get(REQUIRE_ENV) == "1" or os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1 or CI=true)")
    pytest.skip(reason)


def postgres_dsn_or_skip() -> str:
    """The machine's PostgreSQL (`LIVEGQL_TEST_POSTGRES_URL`, else postgres@127.0.0.1:5432/test) if it answers."""
    dsn = os.environ.get(DSN_ENV) or DEFAULT_DSN
    try:
        with psycopg.connect(dsn, connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        _unavailable(f"PostgreSQL not reachable at {dsn} ({error}): start it or set {DSN_ENV}")
    return dsn


def unique_name(prefix: str = "livegql_test") -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@asynccontextmanager
async def own_schema(dsn: str, name: str | None = None) -> AsyncIterator[str]:
    """Create a schema of this test's own; drop it (with its tables, triggers and function) afterwards."""
    schema = name or unique_name()
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        await connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
            await connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


async def execute(dsn: str, statement: Any, params: Any = None) -> list[tuple[Any, ...]]:
    """Run one statement on a connection of its own (a "psql" writer, committed on return); rows if any."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        cursor = await connection.execute(statement, params)
        return await cursor.fetchall() if cursor.description else []
