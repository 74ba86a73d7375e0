"""Where the demo keeps its database: argument, then $LIVEGQL_DEMO_DB, then the per-user default."""

import sqlite3
import sys
from pathlib import Path

import pytest

from livegql import LiveGQL, PubSub
from livegql.demo import DB_ENV_VAR, DEFAULT_DB_PATH, create_app, resolve_db_path
from livegql.demo.app import _user_data_dir


def test_default_is_an_absolute_per_user_path() -> None:
    path = Path(DEFAULT_DB_PATH)
    assert path.is_absolute()
    assert path.parts[-2:] == ("livegql", "demo.db")


def test_argument_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    assert resolve_db_path() == DEFAULT_DB_PATH
    monkeypatch.setenv(DB_ENV_VAR, "/from/env.db")
    assert resolve_db_path() == "/from/env.db"
    assert resolve_db_path("/from/arg.db") == "/from/arg.db"


def test_an_empty_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DB_ENV_VAR, "")
    assert resolve_db_path() == DEFAULT_DB_PATH


def test_create_app_opens_the_database_named_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "from-env" / "chat.db"
    monkeypatch.setenv(DB_ENV_VAR, str(target))
    app = create_app()
    assert isinstance(app, LiveGQL)
    connection = sqlite3.connect(target)
    try:
        assert connection.execute("SELECT COUNT(*) FROM messages").fetchone() == (0,)
    finally:
        connection.close()


def test_create_app_uses_the_given_pubsub(db_path: str) -> None:
    pubsub = PubSub()
    assert create_app(db_path, pubsub=pubsub).pubsub is pubsub


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG applies to Linux and other Unixes")
def test_xdg_data_home_is_honoured_only_when_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert _user_data_dir() == tmp_path
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")
    assert _user_data_dir() == Path.home() / ".local" / "share"
