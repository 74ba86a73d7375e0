"""Rows changed in PostgreSQL by another writer reach a live query and a subscription over a real WebSocket."""

from tests.postgres.chat import CHANGES, LIVE, Chat, listening
from tests.support.live_helpers import next_payload, next_payloads, subscribe
from tests.support.server import LiveServer, subscribers
from tests.support.waiting import until
from tests.support.wsclient import RawPeer, connect


def messages(*rows: tuple[int, str]) -> dict[str, object]:
    return {"data": {"messages": [{"id": str(id_), "text": text} for id_, text in rows]}}


async def test_live_query_follows_insert_update_delete_by_another_writer(chat: Chat, chat_server: LiveServer) -> None:
    await chat.write("INSERT INTO {} (room, text) VALUES ('a', 'first')")
    async with listening(chat_server, chat.source), connect(chat_server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "live", LIVE, {"room": "a"})
        assert await next_payload(peer, "live") == messages((1, "first"))

        await chat.write("INSERT INTO {} (room, text) VALUES ('a', 'second')")
        assert await next_payload(peer, "live") == messages((1, "first"), (2, "second"))
        await chat.write("UPDATE {} SET text = 'edited' WHERE id = 1")
        assert await next_payload(peer, "live") == messages((1, "edited"), (2, "second"))
        await chat.write("DELETE FROM {} WHERE id = 2")
        assert await next_payload(peer, "live") == messages((1, "edited"))
        await chat.write("TRUNCATE {}")  # no rows to tell of: the table's resync key refreshes it
        assert await next_payload(peer, "live") == messages()


async def test_subscription_gets_each_change_with_the_row_fetched_by_key(chat: Chat, chat_server: LiveServer) -> None:
    async with listening(chat_server, chat.source), connect(chat_server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "sub", CHANGES, {"room": "a"})
        await until(lambda: _subscribed(chat_server, "room:a"), what="the subscription to room:a")

        await chat.write("INSERT INTO {} (room, text) VALUES ('b', 'elsewhere'), ('a', 'hello')")
        assert await event(peer) == {"op": "INSERT", "id": "2", "text": "hello"}
        await chat.write("UPDATE {} SET text = 'hello again' WHERE id = 2")
        assert await event(peer) == {"op": "UPDATE", "id": "2", "text": "hello again"}
        await chat.write("DELETE FROM {} WHERE id = 2")
        assert await event(peer) == {"op": "DELETE", "id": "2", "text": None}


async def event(peer: RawPeer) -> object:
    """The next event of the subscription "sub" (its `extensions.position` aside)."""
    return (await next_payload(peer, "sub"))["data"]["changes"]


async def _subscribed(server: LiveServer, topic: str) -> bool:
    return await subscribers(server, topic) == 1


async def test_a_row_moved_to_another_room_refreshes_both_rooms(chat: Chat, chat_server: LiveServer) -> None:
    await chat.write("INSERT INTO {} (room, text) VALUES ('a', 'moving')")
    async with listening(chat_server, chat.source), connect(chat_server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "a", LIVE, {"room": "a"})
        await subscribe(peer, "b", LIVE, {"room": "b"})
        assert await next_payloads(peer, "a", "b") == {"a": messages((1, "moving")), "b": messages()}

        # The notification carries the old row's room too: room a's key comes from it, room b's from the new one.
        await chat.write("UPDATE {} SET room = 'b' WHERE id = 1")
        assert await next_payloads(peer, "a", "b") == {"a": messages(), "b": messages((1, "moving"))}
