"""`create_app`: the chat demo as a `LiveGQL` app, and where its SQLite file lives by default."""

import os
import sys
from pathlib import Path

from livegql import LiveGQL, PubSub
from livegql.demo.schema import SDL, make_resolvers
from livegql.demo.store import ChatStore

DB_ENV_VAR = "LIVEGQL_DEMO_DB"


def _user_data_dir() -> Path:
    """The platform's per-user data directory (no platformdirs dependency for three cases)."""
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    if sys.platform == "darwin":
        return home / "Library" / "Application Support"
    xdg = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    return Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"


DEFAULT_DB_PATH = str(_user_data_dir() / "livegql" / "demo.db")
"""Per-user, not per-directory, so the chat history is the same wherever `livegql demo` is started:
`~/.local/share/livegql/demo.db` (or under `$XDG_DATA_HOME`) on Linux,
`~/Library/Application Support/livegql/demo.db` on macOS, `%LOCALAPPDATA%\\livegql\\demo.db` on Windows."""


def resolve_db_path(db_path: str | None = None) -> str:
    """The database `create_app(db_path)` uses: `db_path` if given, else $LIVEGQL_DEMO_DB, else the default."""
    if db_path:
        return db_path
    return os.environ.get(DB_ENV_VAR) or DEFAULT_DB_PATH


def create_app(db_path: str | None = None, *, pubsub: PubSub | None = None) -> LiveGQL:
    """The chat demo: rooms of messages kept in SQLite, sent by mutation, delivered live by subscription.

    The database is `db_path`, else the file named by the LIVEGQL_DEMO_DB environment variable, else
    `DEFAULT_DB_PATH` (see `resolve_db_path`); ":memory:" keeps nothing. The file and its directory are
    created on first use. Messages of room R are published on `pubsub` (a new in-memory one by default)
    under the topic "chat:R", so application code can inject or observe them too; each send also
    invalidates the live-query keys "Room:R" and "Query.rooms", so live histories and room lists refresh.
    """
    store = ChatStore(resolve_db_path(db_path))
    return LiveGQL(SDL, resolvers=make_resolvers(store), pubsub=pubsub)
