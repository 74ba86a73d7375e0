"""`ChatStore`: the chat demo's messages in one SQLite file, behind async methods that never block the loop."""

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, TypedDict, TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    room    TEXT NOT NULL,
    author  TEXT NOT NULL,
    text    TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_room_id ON messages (room, id);
"""
COLUMNS = "id, room, author, text, sent_at"


class Message(TypedDict):
    """A GraphQL `Message`: keys are the schema's field names, so the default resolver reads them."""

    id: str
    room: str
    author: str
    text: str
    sentAt: str


class Room(TypedDict):
    """A GraphQL `Room`."""

    name: str
    messageCount: int


class StoreError(Exception):
    """The chat's database cannot be opened (a bad or unreachable URL); the message is one line, fit to print."""


class MessageStore(Protocol):
    """What the chat's resolvers need of a store: `ChatStore` (SQLite) or `PostgresChatStore`."""

    async def add(self, room: str, author: str, text: str) -> Message: ...

    async def recent(self, room: str, last: int) -> list[Message]: ...

    async def rooms(self) -> list[Room]: ...


def is_postgres_url(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """A database URL without its password, fit to print."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:  # unparseable: printed as given would risk showing a password
        return "<malformed URL>"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision and a `Z`, as JavaScript's `Date.toISOString` writes."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _message(row: tuple[int, str, str, str, str]) -> Message:
    id_, room, author, text, sent_at = row
    return {"id": str(id_), "room": room, "author": author, "text": text, "sentAt": sent_at}


class ChatStore:
    """Messages persisted in SQLite at `path` (":memory:" for a throwaway store); the tables are created
    on first open, so any empty or missing file works, and its parent directory is created if needed.

    Opening is blocking but brief and happens once, when the app is built; every later call runs in a
    worker thread through `asyncio.to_thread`.
    """

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = os.fspath(path)
        self._clock = clock
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the worker threads, so check_same_thread is off and `_lock` makes each
        # call exclusive (a sqlite3.Connection must not be used by two threads at once). One connection
        # rather than one per call: ":memory:" keeps working, the pragmas are set once, and SQLite
        # serialises writers anyway, so per-call connections would buy a chat demo nothing.
        # isolation_level=None (autocommit): every write is a single statement, atomic on its own.
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        # WAL: readers never wait for the writer, and a second process on the same file (another demo
        # server) can read while this one writes.
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.executescript(SCHEMA)

    async def add(self, room: str, author: str, text: str) -> Message:
        """Store a message sent now and return it as stored (with its id and timestamp)."""
        sent_at = iso_utc(self._clock())

        def insert(connection: sqlite3.Connection) -> Message:
            cursor = connection.execute(
                "INSERT INTO messages (room, author, text, sent_at) VALUES (?, ?, ?, ?)",
                (room, author, text, sent_at),
            )
            assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
            return _message((cursor.lastrowid, room, author, text, sent_at))

        return await self._run(insert)

    async def recent(self, room: str, last: int) -> list[Message]:
        """The last `last` messages of `room`, oldest first."""

        def select(connection: sqlite3.Connection) -> list[Message]:
            rows = connection.execute(
                f"SELECT {COLUMNS} FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?", (room, last)
            ).fetchall()
            return [_message(row) for row in reversed(rows)]

        return await self._run(select)

    async def rooms(self) -> list[Room]:
        """Every room that has messages, by name, with its message count."""

        def select(connection: sqlite3.Connection) -> list[Room]:
            rows = connection.execute("SELECT room, COUNT(*) FROM messages GROUP BY room ORDER BY room").fetchall()
            return [{"name": name, "messageCount": count} for name, count in rows]

        return await self._run(select)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                return work(self._connection)

        return await asyncio.to_thread(locked)

    def close(self) -> None:
        """Close the connection (waiting for a call in progress); later calls raise sqlite3.ProgrammingError."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
