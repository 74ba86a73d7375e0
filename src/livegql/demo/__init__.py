"""The chat demo (`livegql demo`): rooms of messages in SQLite, live over subscriptions; public API only."""

from livegql.demo.app import DB_ENV_VAR, DEFAULT_DB_PATH, create_app, resolve_db_path
from livegql.demo.schema import SDL, make_resolvers, room_topic
from livegql.demo.store import ChatStore, Message, Room

__all__ = [
    "DB_ENV_VAR",
    "DEFAULT_DB_PATH",
    "SDL",
    "ChatStore",
    "Message",
    "Room",
    "create_app",
    "make_resolvers",
    "resolve_db_path",
    "room_topic",
]
