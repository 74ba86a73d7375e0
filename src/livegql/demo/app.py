"""`create_app`: the demo's GraphQL app (chat, news, ticker, points); `create_site`: it behind the web page, with
the simulation (and, with the chat on PostgreSQL, the source that makes any writer's changes live); and where the
chat's SQLite file lives by default."""

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from livegql import LiveGQL, PubSub
from livegql.demo.feeds import Grid, NewsFeed, Ticker
from livegql.demo.feeds_schema import FEEDS_SDL, make_feed_resolvers
from livegql.demo.schema import SDL, make_resolvers
from livegql.demo.simulation import DEFAULT_MOVES_PER_SECOND, DEFAULT_TICKS_PER_SECOND, Simulation
from livegql.demo.site import Background, DemoSite
from livegql.demo.store import ChatStore, MessageStore, StoreError

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


@dataclass
class Feeds:
    """The in-memory feeds beside the chat; `seed` makes the ticker's and the grid's walks repeatable."""

    seed: int | None = None
    news: NewsFeed = field(default_factory=NewsFeed)
    ticker: Ticker = field(init=False)
    grid: Grid = field(init=False)

    def __post_init__(self) -> None:
        self.ticker = Ticker(self.seed)
        self.grid = Grid(self.seed)


def create_app(db_path: str | None = None, *, pubsub: PubSub | None = None, feeds: Feeds | None = None) -> LiveGQL:
    """The demo's GraphQL app. The chat: rooms of messages kept in SQLite, sent by mutation, delivered live by
    subscription.

    The database is `db_path`, else the file named by the LIVEGQL_DEMO_DB environment variable, else
    `DEFAULT_DB_PATH` (see `resolve_db_path`); ":memory:" keeps nothing. The file and its directory are
    created on first use. Messages of room R are published on `pubsub` (a new in-memory one by default)
    under the topic "chat:R", so application code can inject or observe them too; each send also
    invalidates the live-query keys "Room:R" and "Query.rooms", so live histories and room lists refresh.
    News, stocks and points live in `feeds` (new ones by default), in memory: see `feeds_schema` for their keys.
    """
    return _app(ChatStore(resolve_db_path(db_path)), feeds or Feeds(), pubsub, announce=True)


def _app(store: MessageStore, feeds: Feeds, pubsub: PubSub | None, *, announce: bool) -> LiveGQL:
    resolvers = make_resolvers(store, announce=announce)
    for type_name, fields in make_feed_resolvers(feeds.news, feeds.ticker, feeds.grid).items():
        resolvers.setdefault(type_name, {}).update(fields)
    return LiveGQL(SDL + FEEDS_SDL, resolvers=resolvers, pubsub=pubsub)


def create_postgres_app(
    database: str, *, schema: str | None = None, pubsub: PubSub | None = None, feeds: Feeds | None = None
) -> tuple[LiveGQL, Background]:
    """The demo's GraphQL app with the chat in PostgreSQL at `database` (a postgresql:// URL), in `schema`
    (default "livegql_demo", created if missing), and what makes it live: run its `start()` before serving and its
    `close()` after (`create_site` does, in the ASGI lifespan). The database triggers, not the resolvers, publish
    and invalidate, so a change by any writer (psql too) reaches live queries and subscriptions, each once.

    StoreError (one line) if the URL is not postgresql://, the database cannot be reached, or psycopg is missing.
    """
    try:
        from livegql.demo.postgres_chat import ChatChanges
        from livegql.demo.postgres_store import DEFAULT_SCHEMA, PostgresChatStore
    except ImportError as error:  # psycopg is the `postgres` extra's
        raise StoreError(f"{error}: pip install 'livegql[postgres]'") from None
    store = PostgresChatStore(database, schema=schema or DEFAULT_SCHEMA)
    graphql = _app(store, feeds or Feeds(), pubsub, announce=False)
    return graphql, ChatChanges(store, graphql.pubsub)


def create_site(
    db_path: str | None = None,
    *,
    database: str | None = None,
    schema: str | None = None,
    seed: int | None = None,
    ticks_per_second: float = DEFAULT_TICKS_PER_SECOND,
    moves_per_second: float = DEFAULT_MOVES_PER_SECOND,
) -> DemoSite:
    """What `livegql demo` serves: the page at `/`, GraphQL at `/graphql`, prices and points moving at the given
    rates (0 stops one) while the ASGI lifespan runs. The chat is in SQLite (`db_path`, see `create_app`), or with
    `database` (a postgresql:// URL) in PostgreSQL (see `create_postgres_app`), listened to for the lifespan."""
    feeds = Feeds(seed)
    background: Background | None = None
    if database is not None:
        graphql, background = create_postgres_app(database, schema=schema, feeds=feeds)
    else:
        graphql = create_app(db_path, feeds=feeds)
    simulation = Simulation(feeds.ticker, feeds.grid, graphql.invalidate, ticks_per_second, moves_per_second)
    return DemoSite(graphql, simulation, background=background)
