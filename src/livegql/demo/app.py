"""`create_app`: the demo's GraphQL app (chat, news, ticker, points); `create_site`: it behind the web page, with
the simulation; and where the chat's SQLite file lives by default."""

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from livegql import LiveGQL, PubSub
from livegql.demo.feeds import Grid, NewsFeed, Ticker
from livegql.demo.feeds_schema import FEEDS_SDL, make_feed_resolvers
from livegql.demo.schema import SDL, make_resolvers
from livegql.demo.simulation import DEFAULT_MOVES_PER_SECOND, DEFAULT_TICKS_PER_SECOND, Simulation
from livegql.demo.site import DemoSite
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
    store = ChatStore(resolve_db_path(db_path))
    feeds = feeds or Feeds()
    resolvers = make_resolvers(store)
    for type_name, fields in make_feed_resolvers(feeds.news, feeds.ticker, feeds.grid).items():
        resolvers.setdefault(type_name, {}).update(fields)
    return LiveGQL(SDL + FEEDS_SDL, resolvers=resolvers, pubsub=pubsub)


def create_site(
    db_path: str | None = None,
    *,
    seed: int | None = None,
    ticks_per_second: float = DEFAULT_TICKS_PER_SECOND,
    moves_per_second: float = DEFAULT_MOVES_PER_SECOND,
) -> DemoSite:
    """What `livegql demo` serves: the page at `/`, GraphQL at `/graphql`, prices and points moving at the given
    rates (0 stops one) while the ASGI lifespan runs."""
    feeds = Feeds(seed)
    graphql = create_app(db_path, feeds=feeds)
    simulation = Simulation(feeds.ticker, feeds.grid, graphql.invalidate, ticks_per_second, moves_per_second)
    return DemoSite(graphql, simulation)
