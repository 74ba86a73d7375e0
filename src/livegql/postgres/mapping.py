"""What a row change means to livegql: `Change` (one NOTIFY, parsed) and `TableMapping` (table -> keys, topics)."""

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from livegql.core import json

Op = Literal["INSERT", "UPDATE", "DELETE", "TRUNCATE"]
Row = Mapping[str, Any]
KeysOf = Callable[[Row], Iterable[str]]
TopicsOf = Callable[["Change"], str | Iterable[str] | None]
PayloadOf = Callable[["Change"], Any | Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Change:
    """One row change as the trigger reported it: only the mapping's `columns`, never the whole row.

    `new` is the row after an INSERT or UPDATE, `old` the row before an UPDATE or DELETE; both are None for
    TRUNCATE. `partial` is true when the listed columns did not fit NOTIFY's 8000-byte limit and only the
    first one (the key) was sent.
    """

    schema: str
    table: str
    op: Op
    new: Row | None = None
    old: Row | None = None
    partial: bool = False

    @property
    def row(self) -> Row | None:
        """The row as it is now (`new`), or as it was before a DELETE (`old`)."""
        return self.new if self.new is not None else self.old

    def rows(self) -> list[Row]:
        """Each distinct image of the row: an UPDATE that moved it (say, to another room) touches both."""
        images = [image for image in (self.new, self.old) if image is not None]
        if len(images) == 2 and images[0] == images[1]:
            return images[:1]
        return images

    def as_payload(self) -> dict[str, Any]:
        """The default event published on a mapping's topic."""
        return {"op": self.op, "table": self.table, "new": self.new, "old": self.old}

    @classmethod
    def parse(cls, payload: str) -> "Change":
        """A notification payload written by the installed trigger function. ValueError if it is not one."""
        message = json.loads(payload)
        if not isinstance(message, dict) or message.get("op") not in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
            raise ValueError(f"not a livegql change notification: {payload[:200]!r}")
        return cls(
            schema=str(message["schema"]),
            table=str(message["table"]),
            op=message["op"],
            new=message.get("new"),
            old=message.get("old"),
            partial=bool(message.get("partial")),
        )


@dataclass(frozen=True, slots=True)
class TableMapping:
    """How changes to one table reach live queries (`keys`) and subscriptions (`topic`, `payload`).

    - `columns`: what the trigger sends per row: the primary key first, then small columns the callables need
      (a NOTIFY payload holds at most 8000 bytes; the trigger falls back to the first column alone).
    - `keys(row)`: invalidation keys of one row image; called for the new and the old image, so a row that
      moved (an UPDATE of `room`) refreshes the live queries of both.
    - `topic(change)`: topic(s) to publish the change on, or None; `payload(change)` (may be async, e.g. to
      fetch the whole row by key) is what is published, by default `Change.as_payload()`.
    - `resync_keys`: invalidated after notifications may have been missed (the LISTEN connection was re-made)
      and on TRUNCATE. A live query that must not stay stale reads one of them (a root field's automatic
      `Query.field` key, or `add_resource_keys(info, mapping.table_key)`). Default: `(table_key,)`.
    """

    table: str
    keys: KeysOf | None = None
    topic: TopicsOf | None = None
    payload: PayloadOf | None = None
    columns: Sequence[str] = ("id",)
    schema: str = "public"
    resync_keys: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.columns, str):
            raise TypeError(f"TableMapping({self.table!r}): columns must be a sequence of names, not a str")
        if not self.columns:
            raise ValueError(f"TableMapping({self.table!r}): columns must name at least the key column")

    @property
    def table_key(self) -> str:
        """`pg:schema.table`: a key for "this live query read the table", invalidated on resync."""
        return f"pg:{self.schema}.{self.table}"

    def resync_keys_or_default(self) -> list[str]:
        return list(self.resync_keys) if self.resync_keys is not None else [self.table_key]

    def keys_of(self, change: Change) -> list[str]:
        """Every key the change invalidates (a TRUNCATE: the resync keys)."""
        if change.op == "TRUNCATE":
            return self.resync_keys_or_default()
        if self.keys is None:
            return []
        found: dict[str, None] = {}  # ordered and without duplicates
        for row in change.rows():
            found.update(dict.fromkeys(self.keys(row)))
        return list(found)

    def topics_of(self, change: Change) -> list[str]:
        """Where the change is published; never for a TRUNCATE, which has no row to tell of."""
        if self.topic is None or change.op == "TRUNCATE":
            return []
        topics = self.topic(change)
        if topics is None:
            return []
        return [topics] if isinstance(topics, str) else list(topics)

    async def payload_of(self, change: Change) -> Any:
        if self.payload is None:
            return change.as_payload()
        value = self.payload(change)
        return await value if inspect.isawaitable(value) else value
