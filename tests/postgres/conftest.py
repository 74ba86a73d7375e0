"""Fixtures over the machine's PostgreSQL: a schema of the test's own, the chat app on it, a server serving it."""

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.postgres.chat import Chat
from tests.support.postgres import own_schema, postgres_dsn_or_skip
from tests.support.server import LiveServer, serve


@pytest.fixture
def dsn() -> str:
    return postgres_dsn_or_skip()


@pytest.fixture
async def schema(dsn: str) -> AsyncIterator[str]:
    async with own_schema(dsn) as name:
        yield name


@pytest.fixture
async def chat(dsn: str, schema: str) -> Chat:
    chat = Chat(dsn, schema)
    await chat.create()
    return chat


@pytest.fixture
def chat_server(chat: Chat) -> Iterator[LiveServer]:
    with serve(chat.app) as live:
        yield live
