"""Fixtures for the chat demo: a fresh database file per test, the app on it, and a live server."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from livegql import LiveGQL
from livegql.demo import create_app
from tests.support.server import LiveServer, serve


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "chat.db")


@pytest.fixture
def chat_app(db_path: str) -> LiveGQL:
    return create_app(db_path)


@pytest.fixture
def chat_server(chat_app: LiveGQL) -> Iterator[LiveServer]:
    with serve(chat_app) as live:
        yield live
