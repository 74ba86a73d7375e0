"""The SQL livegql installs: one trigger function per source, one row trigger and one TRUNCATE trigger per table.

Every identifier and literal goes through `psycopg.sql`, so schema, table, column and channel names with quotes,
spaces or semicolons are safe. Install and uninstall are idempotent and each runs in one transaction.
"""

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection, sql

from livegql.postgres.mapping import TableMapping

# NOTIFY payloads must be under 8000 bytes (longer raises in the writer). TG_ARGV[0] is the channel, the rest
# the columns to send. When they do not fit, only the first (the key) is sent, with "partial": true, rather than
# failing the writer's transaction. Returns NULL: an AFTER trigger's result is ignored. `pg_notify` is
# transactional: listeners hear of a change only once it is committed, and in commit order.
_FUNCTION = """
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $livegql$
DECLARE
  wanted text[] := TG_ARGV[1:TG_NARGS - 1];
  new_row jsonb;
  old_row jsonb;
  message jsonb;
BEGIN
  IF TG_LEVEL = 'ROW' AND TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
  IF TG_LEVEL = 'ROW' AND TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
  FOR attempt IN 1..2 LOOP
    message := jsonb_build_object(
      'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, 'op', TG_OP, 'partial', attempt = 2,
      'new', (SELECT jsonb_object_agg(key, value) FROM jsonb_each(new_row) WHERE key = ANY (wanted)),
      'old', (SELECT jsonb_object_agg(key, value) FROM jsonb_each(old_row) WHERE key = ANY (wanted)));
    EXIT WHEN octet_length(message::text) < 8000;
    wanted := TG_ARGV[1:1];
  END LOOP;
  PERFORM pg_notify(TG_ARGV[0], message::text);
  RETURN NULL;
END
$livegql$
"""


class Triggers:
    """The names of one source's database objects: `schema.name_notify()` and the triggers `name_row`,
    `name_truncate` on each mapped table."""

    def __init__(self, name: str, schema: str, channel: str) -> None:
        self.function = sql.Identifier(schema, f"{name}_notify")
        self.row_trigger = sql.Identifier(f"{name}_row")
        self.truncate_trigger = sql.Identifier(f"{name}_truncate")
        self.channel = channel

    async def install(self, connection: AsyncConnection[Any], tables: Sequence[TableMapping]) -> None:
        """Create or replace the function and each table's triggers (dropped and re-created, so the columns and
        channel are the current ones)."""
        async with connection.transaction():
            await connection.execute(sql.SQL(_FUNCTION).format(function=self.function))
            for mapping in tables:
                await self._drop(connection, mapping)
                for statement in self._create(mapping):
                    await connection.execute(statement)

    async def uninstall(self, connection: AsyncConnection[Any], tables: Sequence[TableMapping]) -> None:
        """Drop each table's triggers, then the function; objects already gone are skipped."""
        async with connection.transaction():
            for mapping in tables:
                await self._drop(connection, mapping)
            await connection.execute(sql.SQL("DROP FUNCTION IF EXISTS {}()").format(self.function))

    def _create(self, mapping: TableMapping) -> list[sql.Composed]:
        table = sql.Identifier(mapping.schema, mapping.table)
        arguments = sql.SQL(", ").join(sql.Literal(value) for value in (self.channel, *mapping.columns))
        row = sql.SQL(
            "CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION {function}({arguments})"
        ).format(trigger=self.row_trigger, table=table, function=self.function, arguments=arguments)
        truncate = sql.SQL(
            "CREATE TRIGGER {trigger} AFTER TRUNCATE ON {table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION {function}({channel})"
        ).format(trigger=self.truncate_trigger, table=table, function=self.function, channel=sql.Literal(self.channel))
        return [row, truncate]

    async def _drop(self, connection: AsyncConnection[Any], mapping: TableMapping) -> None:
        table = sql.Identifier(mapping.schema, mapping.table)
        for trigger in (self.row_trigger, self.truncate_trigger):
            await connection.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(trigger, table))
