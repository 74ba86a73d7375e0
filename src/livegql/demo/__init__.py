"""The chat demo (`livegql demo`): rooms of messages in SQLite, live by subscription and `@live` query; public API."""

from livegql.demo.app import DB_ENV_VAR, DEFAULT_DB_PATH, create_app, resolve_db_path
from livegql.demo.schema import ROOMS_KEY, SDL, make_resolvers, room_key, room_topic
from livegql.demo.store import ChatStore, Message, Room

__all__ = [
    "DB_ENV_VAR",
    "DEFAULT_DB_PATH",
    "ROOMS_KEY",
    "SDL",
    "ChatStore",
    "Message",
    "Room",
    "create_app",
    "make_resolvers",
    "resolve_db_path",
    "room_key",
    "room_topic",
]
