"""`ChatChanges`: the chat on PostgreSQL made live by the database itself: a `PostgresSource` whose triggers tell of
every change to the messages table, whoever made it (the demo's `send`, psql, another service)."""

from typing import Any

from livegql import PubSub
from livegql.demo.postgres_store import PostgresChatStore
from livegql.demo.schema import CHAT_KEY, ROOMS_KEY, room_key, room_topic
from livegql.demo.store import Message
from livegql.postgres import Change, PostgresSource, TableMapping

SOURCE_NAME = "livegql_demo"
"""The trigger function, trigger and channel names; one channel serves every schema (each source ignores the
tables it does not map), so two demos in two schemas of one database stay apart."""


def messages_mapping(store: PostgresChatStore) -> TableMapping:
    """A row change refreshes its room's live history (the old room's too, for a row moved) and the room list;
    an INSERT is also published on the room's topic, as the `messages` subscription is "every message sent"."""

    def keys(row: Any) -> list[str]:
        return [room_key(row["room"]), ROOMS_KEY]

    def topic(change: Change) -> str | None:
        return room_topic(change.row["room"]) if change.op == "INSERT" and change.row is not None else None

    async def payload(change: Change) -> Message:
        # The notification carries only id and room (small: the room CHECK keeps it far below NOTIFY's 8000 bytes,
        # so it is never partial); the message is read back whole, as the subscription's `Message` needs it.
        assert change.row is not None
        message = await store.get(change.row["id"])
        if message is None:  # deleted before we read it: nothing to deliver (the source logs and goes on)
            raise LookupError(f"message {change.row['id']} is gone")
        return message

    return TableMapping(
        "messages",
        schema=store.schema,
        columns=("id", "room"),
        keys=keys,
        topic=topic,
        payload=payload,
        # After a reconnect or a TRUNCATE, every chat query (they all read CHAT_KEY) re-runs.
        resync_keys=(CHAT_KEY,),
    )


class ChatChanges:
    """The triggers on `store`'s table, installed and listened to from `start()` to `close()` (the ASGI lifespan's
    startup and shutdown); `close()` closes the store as well."""

    def __init__(self, store: PostgresChatStore, pubsub: PubSub) -> None:
        self.store = store
        self.source = PostgresSource(
            store.dsn, pubsub, [messages_mapping(store)], name=SOURCE_NAME, schema=store.schema
        )

    async def start(self) -> None:
        """Install the triggers (idempotent) and LISTEN: every change committed from the return on is heard."""
        await self.source.install()
        await self.source.start()

    async def close(self) -> None:
        await self.source.close()
        self.store.close()
