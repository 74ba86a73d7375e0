"""Row changes in PostgreSQL, by any writer, as live-query invalidations and subscription events.

Triggers that `PostgresSource.install()` creates `pg_notify` each change; the source LISTENs and maps each one
through its table's `TableMapping`. Needs the `postgres` extra (psycopg 3).
"""

try:
    import psycopg  # noqa: F401
except ImportError as error:  # pragma: no cover - only without the extra
    raise ImportError("livegql.postgres needs psycopg 3: pip install 'livegql[postgres]'") from error

from livegql.postgres.mapping import Change, TableMapping
from livegql.postgres.source import PostgresSource

__all__ = ["Change", "PostgresSource", "TableMapping"]
