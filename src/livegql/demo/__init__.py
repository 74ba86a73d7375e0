"""The demo (`livegql demo`): a chat in SQLite (or PostgreSQL), news, a stock ticker and moving points, live over
WebSocket, and the web page that shows them; public API."""

from livegql.demo.app import (
    DB_ENV_VAR,
    DEFAULT_DB_PATH,
    Feeds,
    create_app,
    create_postgres_app,
    create_site,
    resolve_db_path,
)
from livegql.demo.schema import CHAT_KEY, ROOMS_KEY, SDL, make_resolvers, room_key, room_topic
from livegql.demo.site import CONTENT_SECURITY_POLICY, STATIC_DIR, Background, DemoSite
from livegql.demo.store import ChatStore, Message, MessageStore, Room, StoreError

__all__ = [
    "CHAT_KEY",
    "CONTENT_SECURITY_POLICY",
    "DB_ENV_VAR",
    "DEFAULT_DB_PATH",
    "ROOMS_KEY",
    "SDL",
    "STATIC_DIR",
    "Background",
    "ChatStore",
    "DemoSite",
    "Feeds",
    "Message",
    "MessageStore",
    "Room",
    "StoreError",
    "create_app",
    "create_postgres_app",
    "create_site",
    "make_resolvers",
    "resolve_db_path",
    "room_key",
    "room_topic",
]
