"""The demo's chat on the machine's PostgreSQL (`livegql demo --database postgresql://...`, issue 7): a message
written by any writer (a plain psycopg connection, as psql would be) reaches live histories and the `messages`
subscription, each message once, whether the demo's `send` or another writer stored it; and `--database` fails
cleanly on a bad or unreachable URL."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from psycopg import sql

from livegql import LiveGQL
from livegql.client import HTTPClient
from livegql.demo import Background, StoreError, create_postgres_app, create_site
from livegql.demo.postgres_store import PostgresChatStore
from livegql.demo.store import redact
from tests.demo.site_server import serve_demo
from tests.support.live_helpers import next_payload, subscribe
from tests.support.postgres import execute, own_schema, postgres_dsn_or_skip
from tests.support.server import LiveServer, serve, subscribers
from tests.support.waiting import until
from tests.support.wsclient import RawPeer, connect
from tests.test_cli import assert_one_error_line, livegql

HISTORY = 'query @live { messages(room: "general") { id author text } }'
WATCH = 'subscription { messages(room: "general") { id author text } }'
SEND = 'mutation { send(author: "ann", text: "from the demo") { id } }'


@pytest.fixture
async def schema() -> AsyncIterator[tuple[str, str]]:
    dsn = postgres_dsn_or_skip()
    async with own_schema(dsn) as name:
        yield dsn, name


@pytest.fixture
def demo(schema: tuple[str, str]) -> tuple[LiveGQL, Background]:
    dsn, name = schema
    return create_postgres_app(dsn, schema=name)


@asynccontextmanager
async def served(demo: tuple[LiveGQL, Background]) -> AsyncIterator[LiveServer]:
    """The app on a live server, its PostgreSQL listener running on the server's loop (where its PubSub lives)."""
    graphql, changes = demo
    with serve(graphql) as server:
        await server.acall(changes.start())
        try:
            yield server
        finally:
            await server.acall(changes.close())


async def write(dsn: str, schema: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Another writer, as psql would be: `{}` stands for the demo's messages table."""
    return await execute(dsn, sql.SQL(statement).format(sql.Identifier(schema, "messages")), params)


def history(*rows: tuple[int, str, str]) -> dict[str, Any]:
    return {"data": {"messages": [{"id": str(id_), "author": author, "text": text} for id_, author, text in rows]}}


async def event(peer: RawPeer) -> Any:
    return (await next_payload(peer, "watch"))["data"]["messages"]


async def test_another_writers_insert_and_update_reach_a_live_history(
    schema: tuple[str, str], demo: tuple[LiveGQL, Background]
) -> None:
    dsn, name = schema
    async with served(demo) as server, connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "live", HISTORY)
        assert await next_payload(peer, "live") == history()
        await write(dsn, name, "INSERT INTO {} (room, author, text) VALUES ('general', 'psql', 'hello')")
        assert await next_payload(peer, "live") == history((1, "psql", "hello"))
        await write(dsn, name, "UPDATE {} SET text = 'edited' WHERE id = 1")
        assert await next_payload(peer, "live") == history((1, "psql", "edited"))
        # No row to tell of: the resync key every chat query reads refreshes it.
        await write(dsn, name, "TRUNCATE {}")
        assert await next_payload(peer, "live") == history()


async def test_the_subscription_gets_each_message_once_whoever_wrote_it(
    schema: tuple[str, str], demo: tuple[LiveGQL, Background]
) -> None:
    dsn, name = schema
    async with served(demo) as server, connect(server.ws_url) as peer, HTTPClient(server.http_url) as http:
        await peer.init()
        await subscribe(peer, "watch", WATCH)
        await until(lambda: _subscribed(server), what="the subscription to chat:general")
        await http.execute(SEND)
        assert await event(peer) == {"id": "1", "author": "ann", "text": "from the demo"}
        await write(dsn, name, "INSERT INTO {} (room, author, text) VALUES ('general', 'psql', 'from psql')")
        # Notifications are handled in commit order: had the send also published, its copy would come first.
        assert await event(peer) == {"id": "2", "author": "psql", "text": "from psql"}
        # An edit is not a new message, and another room's message is not this room's.
        await write(dsn, name, "UPDATE {} SET text = 'edited' WHERE id = 2")
        await write(dsn, name, "INSERT INTO {} (room, author, text) VALUES ('other', 'psql', 'elsewhere')")
        await write(dsn, name, "INSERT INTO {} (room, author, text) VALUES ('general', 'psql', 'last')")
        assert await event(peer) == {"id": "4", "author": "psql", "text": "last"}


async def _subscribed(server: LiveServer) -> bool:
    return await subscribers(server, "chat:general") == 1


async def test_the_site_listens_to_postgresql_for_its_lifespan(schema: tuple[str, str]) -> None:
    dsn, name = schema
    site = create_site(database=dsn, schema=name, ticks_per_second=0, moves_per_second=0)
    with serve_demo(site, lifespan="on") as port:
        async with connect(f"ws://127.0.0.1:{port}/graphql") as peer:
            await peer.init()
            await subscribe(peer, "live", HISTORY)
            assert await next_payload(peer, "live") == history()
            await write(dsn, name, "INSERT INTO {} (room, author, text) VALUES ('general', 'psql', 'hello')")
            assert await next_payload(peer, "live") == history((1, "psql", "hello"))


async def test_the_store_creates_its_schema_and_keeps_psqls_rows_valid(schema: tuple[str, str]) -> None:
    dsn, name = schema
    nested = f"{name}_store"
    try:
        with PostgresChatStore(dsn, schema=nested) as store:
            sent = await store.add("general", "ann", "hi")
            await write(dsn, nested, "INSERT INTO {} (room, author, text) VALUES ('b', 'psql', 'now')")
            assert [message["text"] for message in await store.recent("general", 5)] == ["hi"]
            assert await store.rooms() == [{"name": "b", "messageCount": 1}, {"name": "general", "messageCount": 1}]
            assert await store.get(sent["id"]) == sent
            assert sent["sentAt"].endswith("Z")
            with pytest.raises(Exception, match="check constraint"):
                await write(dsn, nested, "INSERT INTO {} (room, author, text) VALUES ('no spaces', 'a', 'b')")
        # Opening again finds the table as it is.
        with PostgresChatStore(dsn, schema=nested) as store:
            assert len(await store.recent("general", 5)) == 1
    finally:
        await execute(dsn, sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(nested)))


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://postgres@127.0.0.1:1/test", "cannot open the demo database postgresql://postgres@127.0.0.1:1"),
        ("sqlite:///tmp/chat.db", "expected a postgresql:// URL"),
        ("postgresql://ann:secret@127.0.0.1:1/test", "postgresql://ann:***@127.0.0.1:1/test"),
    ],
)
async def test_demo_with_a_bad_or_unreachable_database_url_exits_1(url: str, fragment: str) -> None:
    finished = await livegql("demo", "--port", "0", "--database", url)
    assert_one_error_line(finished, 1, fragment)
    assert "secret" not in finished.stderr


def test_a_printed_url_hides_its_password() -> None:
    assert redact("postgresql://ann:s3cret@db:5432/x") == "postgresql://ann:***@db:5432/x"
    assert redact("postgresql://ann@db/x") == "postgresql://ann@db/x"


def test_a_non_postgresql_url_is_refused_before_connecting() -> None:
    with pytest.raises(StoreError, match="expected a postgresql:// URL"):
        create_postgres_app("mysql://db/x")
