"""Incremental delivery (@defer, @stream) result formats: graphql-core 3.3's, which names each deferred or
streamed record by a `pending` id, and a translation of it to the 2022 format (`path` and `label` on every
entry, no ids) that clients written against graphql-js 17.0.0-alpha.2 and Apollo Router still read.
"""

import enum
from dataclasses import dataclass
from typing import Any, Final

from livegql.core.errors import ProtocolMisuseError

__all__ = ["IncrementalSpec", "Legacy2022Translator"]

PathKey = str | int
JSONObject = dict[str, Any]

# The record-keeping keys of the newer format, which the 2022 format has no place for.
_RECORD_KEYS: Final = frozenset({"pending", "incremental", "completed"})


class IncrementalSpec(enum.Enum):
    """A format of incremental results, by the Accept/Content-Type parameter that names it."""

    INCREMENTAL_V0_2 = "incrementalSpec=v0.2"
    """graphql-core 3.3's own (graphql-js 17.0.0-alpha.9): `pending` ids, `completed`, `subPath`."""
    DEFER_20220824 = "deferSpec=20220824"
    """The 2022 format: every entry carries its `path` (a streamed item's ends with its index) and `label`."""


@dataclass(slots=True)
class _Record:
    """One `pending` id: a deferred fragment, or a stream once `next_index` is known."""

    path: list[PathKey]
    label: str | None
    next_index: int | None = None
    """A stream's: the list index its next item takes. None for a deferred fragment (or a list not found)."""


@dataclass(frozen=True, slots=True)
class _Delivered:
    """JSON a payload delivered at `path`: an object, or a mapping of a list's indices to streamed items."""

    path: list[PathKey]
    value: Any


class Legacy2022Translator:
    """Rewrites one response's payloads, in order, from graphql-core 3.3's format to the 2022 format.

    A stream's first index is the length of its list in the payload that announced it (graphql-core releases
    a stream's `pending` with the result holding its list: the initial `data`, or the incremental entry of the
    enclosing deferred fragment or streamed item); each `items` entry then advances it. A list that cannot be
    found there (never seen from graphql-core) starts at 0.
    """

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}
        self._started = False

    def translate(self, payload: JSONObject) -> JSONObject | None:
        """The 2022 form of the next payload; None when it says nothing in that format (only `completed`
        records, more to come). A result that is not incremental is returned as is, the same object."""
        if self._started:
            return self._subsequent(payload)
        self._started = True
        if "pending" not in payload:
            return payload
        data = payload.get("data")
        delivered = [_Delivered([], data)] if isinstance(data, dict) else []
        self._find_streams(self._register(payload["pending"]), delivered)
        return {key: value for key, value in payload.items() if key != "pending"}

    def _subsequent(self, payload: JSONObject) -> JSONObject | None:
        entries: list[JSONObject] = payload.get("incremental") or []
        if "pending" in payload:
            # Before any entry is translated: an items entry is delivered where its stream stood before it.
            announced = self._register(payload["pending"])
            self._find_streams(announced, self._delivered(entries))
        translated = [self._entry(entry) for entry in entries]
        for completed in payload.get("completed") or ():
            record = self._record(completed["id"])
            del self._records[completed["id"]]
            if "errors" in completed:
                translated.append(_failure(record, completed["errors"]))
        result: JSONObject = {"incremental": translated} if translated else {}
        result.update((key, value) for key, value in payload.items() if key not in _RECORD_KEYS)
        if result == {"hasNext": True}:
            return None
        return result

    def _register(self, pending: list[JSONObject]) -> list[_Record]:
        """Record the newly pending ids (the same payload's entries may already use them)."""
        records = []
        for announced in pending:
            record = _Record(announced["path"], announced.get("label"))
            self._records[announced["id"]] = record
            records.append(record)
        return records

    @staticmethod
    def _find_streams(records: list[_Record], delivered: list[_Delivered]) -> None:
        """A new record whose path holds a list in what its payload delivered is a stream's."""
        for record in records:
            for each in delivered:
                found = _value_at(each, record.path)
                if isinstance(found, list):
                    record.next_index = len(found)
                    break

    def _delivered(self, entries: list[JSONObject]) -> list[_Delivered]:
        """What the entries of one payload deliver, where (streamed items keyed by their list indices). The
        items of a stream announced in this payload are left out: where they start is not known yet."""
        delivered = []
        for entry in entries:
            record = self._record(entry["id"])
            if "data" in entry:
                delivered.append(_Delivered([*record.path, *entry.get("subPath", ())], entry["data"]))
            elif record.next_index is not None:
                items = {record.next_index + offset: item for offset, item in enumerate(entry["items"])}
                delivered.append(_Delivered(record.path, items))
        return delivered

    def _entry(self, entry: JSONObject) -> JSONObject:
        record = self._record(entry["id"])
        if "items" in entry:
            index = record.next_index or 0
            record.next_index = index + len(entry["items"])
            translated = {"items": entry["items"], "path": [*record.path, index]}
        else:
            translated = {"data": entry["data"], "path": [*record.path, *entry.get("subPath", ())]}
        if record.label is not None:
            translated["label"] = record.label
        translated.update((key, entry[key]) for key in ("errors", "extensions") if key in entry)
        return translated

    def _record(self, id: str) -> _Record:
        record = self._records.get(id)
        if record is None:
            raise ProtocolMisuseError(f"Incremental entry for id {id!r}, which is not pending")
        return record


def _failure(record: _Record, errors: list[Any]) -> JSONObject:
    """A record that `completed` with errors: in the 2022 format, a null at its place with the errors (a
    stream's at the index its next item would have taken)."""
    failure: JSONObject
    if record.next_index is None:
        failure = {"data": None, "path": record.path}
    else:
        failure = {"items": None, "path": [*record.path, record.next_index]}
    if record.label is not None:
        failure["label"] = record.label
    failure["errors"] = errors
    return failure


def _value_at(delivered: _Delivered, path: list[PathKey]) -> Any:
    """The value at `path` (absolute) inside what was delivered, or None when it is not in there."""
    depth = len(delivered.path)
    if path[:depth] != delivered.path:
        return None
    value = delivered.value
    for key in path[depth:]:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        else:
            return None
    return value
