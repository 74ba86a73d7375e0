"""ChatStore on real SQLite files: what it stores, in which order, and that it survives reopening."""

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from livegql.demo import ChatStore
from livegql.demo.store import iso_utc

PARIS_SUMMER = timezone(timedelta(hours=2))


@pytest.fixture
def store(db_path: str) -> Iterator[ChatStore]:
    with ChatStore(db_path) as opened:
        yield opened


def test_iso_utc_converts_to_utc_with_milliseconds_and_z() -> None:
    moment = datetime(2024, 5, 6, 9, 8, 9, 123456, tzinfo=PARIS_SUMMER)
    assert iso_utc(moment) == "2024-05-06T07:08:09.123Z"


async def test_add_returns_the_stored_message_with_id_and_clock_time(db_path: str) -> None:
    moment = datetime(2024, 5, 6, 9, 8, 9, 500000, tzinfo=PARIS_SUMMER)
    with ChatStore(db_path, clock=lambda: moment) as store:
        first = await store.add("general", "ann", "hello")
        second = await store.add("general", "bob", "hi")
    assert first == {
        "id": first["id"],
        "room": "general",
        "author": "ann",
        "text": "hello",
        "sentAt": "2024-05-06T07:08:09.500Z",
    }
    assert int(second["id"]) > int(first["id"])


async def test_recent_is_the_last_n_of_the_room_oldest_first(store: ChatStore) -> None:
    for number in range(5):
        await store.add("general", "ann", f"g{number}")
        await store.add("other", "bob", f"o{number}")
    assert [message["text"] for message in await store.recent("general", 3)] == ["g2", "g3", "g4"]
    assert [message["text"] for message in await store.recent("other", 10)] == [f"o{n}" for n in range(5)]
    assert await store.recent("empty", 10) == []


async def test_rooms_lists_rooms_with_messages_by_name_with_counts(store: ChatStore) -> None:
    assert await store.rooms() == []
    for room in ("zeta", "alpha", "zeta"):
        await store.add(room, "ann", "x")
    assert await store.rooms() == [{"name": "alpha", "messageCount": 1}, {"name": "zeta", "messageCount": 2}]


async def test_messages_persist_across_store_instances_on_the_same_file(db_path: str) -> None:
    with ChatStore(db_path) as first:
        sent = await first.add("general", "ann", "still here?")
    with ChatStore(db_path) as second:
        assert await second.recent("general", 20) == [sent]
        later = await second.add("general", "bob", "yes")
    assert int(later["id"]) > int(sent["id"])


async def test_two_open_stores_on_one_file_see_each_others_writes(db_path: str) -> None:
    with ChatStore(db_path) as writer, ChatStore(db_path) as reader:
        sent = await writer.add("general", "ann", "live")
        assert await reader.recent("general", 1) == [sent]


async def test_concurrent_adds_from_many_tasks_are_all_stored_with_distinct_ids(store: ChatStore) -> None:
    sent = await asyncio.gather(*(store.add("general", "ann", str(n)) for n in range(50)))
    assert len({message["id"] for message in sent}) == 50
    stored = await store.recent("general", 500)
    assert sorted(message["text"] for message in stored) == sorted(str(n) for n in range(50))
    assert [int(message["id"]) for message in stored] == sorted(int(message["id"]) for message in stored)


def test_first_open_creates_directories_table_index_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "chat.db"
    ChatStore(path).close()
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        columns = [row[2] for row in connection.execute("PRAGMA index_info(messages_room_id)")]
        assert columns == ["room", "id"]
    finally:
        connection.close()


async def test_memory_database_keeps_messages_between_calls() -> None:
    # Works only because the store keeps one connection: each new ":memory:" connection is empty.
    with ChatStore(":memory:") as store:
        await store.add("general", "ann", "kept")
        assert [message["text"] for message in await store.recent("general", 5)] == ["kept"]


async def test_a_closed_store_refuses_calls(db_path: str) -> None:
    store = ChatStore(db_path)
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        await store.recent("general", 5)
