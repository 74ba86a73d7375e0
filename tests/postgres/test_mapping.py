"""`Change` and `TableMapping` on their own: parsing notifications, keys of both row images, topics, payloads."""

from typing import Any

import pytest

from livegql import PubSub
from livegql.postgres import Change, PostgresSource, TableMapping


def room_keys(row: Any) -> list[str]:
    return [f"Message:{row['id']}", f"Room:{row['room']}"]


def test_a_notification_parses_into_a_change_and_anything_else_is_refused() -> None:
    change = Change.parse('{"schema": "s", "table": "t", "op": "UPDATE", "new": {"id": 1}, "old": {"id": 1}}')
    assert change == Change("s", "t", "UPDATE", {"id": 1}, {"id": 1}, partial=False)
    assert change.rows() == [{"id": 1}]  # the same image twice counts once
    for bad in ('{"op": "MERGE"}', "[]", '"text"'):
        with pytest.raises(ValueError, match="not a livegql change"):
            Change.parse(bad)


def test_keys_come_from_the_new_and_the_old_row() -> None:
    mapping = TableMapping("messages", keys=room_keys, columns=("id", "room"))
    moved = Change("public", "messages", "UPDATE", new={"id": 1, "room": "b"}, old={"id": 1, "room": "a"})
    assert mapping.keys_of(moved) == ["Message:1", "Room:b", "Room:a"]
    deleted = Change("public", "messages", "DELETE", old={"id": 2, "room": "a"})
    assert mapping.keys_of(deleted) == ["Message:2", "Room:a"]


def test_truncate_invalidates_the_resync_keys_and_publishes_nothing() -> None:
    truncated = Change("public", "messages", "TRUNCATE")
    default = TableMapping("messages", keys=room_keys, topic=lambda change: "never")
    assert default.keys_of(truncated) == ["pg:public.messages"] == [default.table_key]
    assert default.topics_of(truncated) == []
    chosen = TableMapping("messages", schema="chat", resync_keys=("Query.messages",))
    assert chosen.keys_of(truncated) == ["Query.messages"]


async def test_topics_and_payloads_sync_or_async() -> None:
    change = Change("public", "messages", "INSERT", new={"id": 3, "room": "a"})
    plain = TableMapping("messages", topic=lambda change: ["x", "y"])
    assert plain.topics_of(change) == ["x", "y"]
    assert await plain.payload_of(change) == {"op": "INSERT", "table": "messages", "new": change.new, "old": None}

    async def fetch(change: Change) -> str:
        return f"row {change.new}"

    fetched = TableMapping("messages", topic=lambda change: None, payload=fetch)
    assert fetched.topics_of(change) == []
    assert await fetched.payload_of(change) == "row {'id': 3, 'room': 'a'}"


def test_mistakes_are_refused_when_configured() -> None:
    with pytest.raises(TypeError, match="not a str"):
        TableMapping("messages", columns="id")
    with pytest.raises(ValueError, match="at least the key"):
        TableMapping("messages", columns=())
    with pytest.raises(ValueError, match="mapped twice"):
        PostgresSource("postgresql://", PubSub(), [TableMapping("t"), TableMapping("t")])
    with pytest.raises(ValueError, match="63 bytes"):
        PostgresSource("postgresql://", PubSub(), [], name="n" * 60)
