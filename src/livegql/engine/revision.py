"""One result of a live query, shared by every watcher: its number, its encoding, and its patch, made once.

Clients that asked for patches get `{"data": ..., "revision": n}` first, then `{"patch": [RFC 6902 ops],
"revision": n}` for each next revision (the shape of @n1ru4l/graphql-live-query-patch-json-patch); a client
that missed a revision gets the full result again. Other clients always get plain `{"data": ...}` results.
"""

from typing import Any

from livegql.core import json
from livegql.core.jsonpatch import diff

_UNSET: Any = object()


class Revision:
    __slots__ = ("_numbered", "_patch", "_previous_data", "data", "full", "has_errors", "number")

    def __init__(self, number: int, full: str, data: Any, has_errors: bool, previous_data: Any) -> None:
        self.number = number
        self.full = full
        """The encoded execution result, as every client without patches receives it."""
        self.data = data
        self.has_errors = has_errors
        self._previous_data = previous_data
        self._numbered: str | None = None
        self._patch: str | None = _UNSET

    @classmethod
    def after(cls, previous: "Revision | None", full: str, data: Any, has_errors: bool) -> "Revision":
        if previous is None:
            return cls(1, full, data, has_errors, _UNSET)
        # A patch from a result with errors would hide them: such revisions are sent whole.
        previous_data = _UNSET if previous.has_errors or has_errors else previous.data
        return cls(previous.number + 1, full, data, has_errors, previous_data)

    @property
    def numbered(self) -> str:
        """The full result with its revision number, for clients that take patches."""
        if self._numbered is None:
            # `full` is an encoded JSON object: splice the member in before its closing brace.
            self._numbered = f'{self.full[:-1]},"revision":{self.number}}}'
        return self._numbered

    @property
    def patch(self) -> str | None:
        """`{"patch": [...], "revision": n}` against revision n-1, or None when only a full result will do."""
        if self._patch is _UNSET:
            if self._previous_data is _UNSET:
                self._patch = None
            else:
                operations = diff(self._previous_data, self.data)
                self._patch = json.dumps({"patch": operations, "revision": self.number})
            self._previous_data = _UNSET  # computed once; the old data need not live longer
        return self._patch
