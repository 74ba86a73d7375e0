"""The LISTEN connection dropped by PostgreSQL (pg_terminate_backend) is re-made, changes are heard again, and
live queries are refreshed for the changes committed while nobody listened."""

import psycopg
import pytest
from psycopg import sql

from livegql import PubSub
from livegql.postgres import PostgresSource, TableMapping
from tests.postgres.chat import LIVE, Chat, backend_pid, connects, listening, write_unheard
from tests.postgres.proxy import SilentProxy
from tests.support.live_helpers import next_payload, subscribe
from tests.support.postgres import execute, unique_name
from tests.support.server import LiveServer, serve
from tests.support.waiting import until
from tests.support.wsclient import connect


def messages(*rows: tuple[int, str]) -> dict[str, object]:
    return {"data": {"messages": [{"id": str(id_), "text": text} for id_, text in rows]}}


async def test_a_dropped_listen_connection_is_remade_and_resyncs(dsn: str, chat: Chat, chat_server: LiveServer) -> None:
    await chat.write("INSERT INTO {} (room, text) VALUES ('a', 'first')")
    async with listening(chat_server, chat.source), connect(chat_server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "live", LIVE, {"room": "a"})
        assert await next_payload(peer, "live") == messages((1, "first"))
        first = await backend_pid(chat_server, chat.source)
        assert first is not None

        await write_unheard(chat, "UPDATE {} SET text = 'missed' WHERE id = 1")
        await execute(dsn, "SELECT pg_terminate_backend(%s)", (first,))
        await until(lambda: _connects(chat_server, chat, 2), what="the LISTEN connection re-made")
        # Nothing notified this change: only the table's resync key, invalidated on reconnect, brings it.
        assert await next_payload(peer, "live") == messages((1, "missed"))
        assert await backend_pid(chat_server, chat.source) not in (None, first)

        await chat.write("UPDATE {} SET text = 'heard again' WHERE id = 1")
        assert await next_payload(peer, "live") == messages((1, "heard again"))


async def _connects(server: LiveServer, chat: Chat, count: int) -> bool:
    return await connects(server, chat.source) >= count


async def test_start_fails_at_once_when_postgres_is_unreachable() -> None:
    # Port 1 on loopback refuses at once: start() reports it rather than retrying in the background forever.
    source = PostgresSource("postgresql://postgres@127.0.0.1:1/test", PubSub(), [TableMapping("t")])
    with pytest.raises(psycopg.OperationalError):
        await source.start()
    assert source.connects == 0
    await source.close()


async def test_a_connection_gone_silent_is_found_by_the_check_and_remade(dsn: str, schema: str) -> None:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    async with SilentProxy(str(info.get("host", "127.0.0.1")), int(str(info.get("port", 5432)))) as proxy:
        through_proxy = psycopg.conninfo.make_conninfo(dsn, host="127.0.0.1", port=str(proxy.port))
        chat = Chat(dsn, schema, source_dsn=through_proxy, health_interval=0.1, connect_timeout=0.5)
        await chat.create()
        await chat.write("INSERT INTO {} (room, text) VALUES ('a', 'first')")
        with serve(chat.app) as server:
            async with listening(server, chat.source), connect(server.ws_url) as peer:
                await peer.init()
                await subscribe(peer, "live", LIVE, {"room": "a"})
                assert await next_payload(peer, "live") == messages((1, "first"))

                proxy.silence()  # no error, no close: the notification of the next change is simply never heard
                await chat.write("UPDATE {} SET text = 'lost' WHERE id = 1")
                await until(lambda: _connects(server, chat, 2), what="the silent connection replaced")
                assert await next_payload(peer, "live") == messages((1, "lost"))
                await chat.write("UPDATE {} SET text = 'heard again' WHERE id = 1")
                assert await next_payload(peer, "live") == messages((1, "heard again"))


async def test_reconnects_keep_trying_while_postgres_refuses(dsn: str, chat: Chat, chat_server: LiveServer) -> None:
    role = unique_name("livegql_role")
    await execute(dsn, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        # The source logs in as a role of its own, which the test can forbid to log in: PostgreSQL refuses it.
        as_role = psycopg.conninfo.make_conninfo(dsn, user=role)
        chat.source = PostgresSource(
            as_role, chat.pubsub, chat.source.tables.values(), name=f"lg_{chat.schema[-32:]}", schema=chat.schema
        )
        async with listening(chat_server, chat.source), connect(chat_server.ws_url) as peer:
            await peer.init()
            await subscribe(peer, "live", LIVE, {"room": "a"})
            assert await next_payload(peer, "live") == messages()

            await execute(dsn, sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(role)))
            await execute(dsn, "SELECT pg_terminate_backend(%s)", (await backend_pid(chat_server, chat.source),))
            await until(lambda: _failed(chat_server, chat, 2), what="two refused reconnection attempts")
            await execute(dsn, sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(role)))
            await until(lambda: _connects(chat_server, chat, 2), what="the LISTEN connection re-made")

            await chat.write("INSERT INTO {} (room, text) VALUES ('a', 'back')")
            assert await next_payload(peer, "live") == messages((1, "back"))
    finally:
        await execute(dsn, sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


async def _failed(server: LiveServer, chat: Chat, count: int) -> bool:
    async def read() -> int:
        return chat.source.failed_connects

    return await server.acall(read()) >= count
