"""RFC 6902 JSON Patch: a compact, deterministic `diff` (add/remove/replace only) and an `apply` for live queries.

Hand-written rather than the `jsonpatch` PyPI library: its make_patch emits move/copy ops from heuristics, while
live-query patches must be small, stable and appliable by any client (fast-json-patch in JS, our Python client).
"""

import math
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["JSONPatchError", "apply", "diff"]

Patch = list[dict[str, Any]]

_MAX_SHIFT = 8  # how far `diff` looks for a list that slid by k elements (a "last N messages" window)
_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~([^01]|$)")


class JSONPatchError(ValueError):
    """A patch is malformed or does not fit the document (bad op, bad path, missing member, index out of range)."""


# --- diff ---------------------------------------------------------------------------------------------------------
# Every helper gets a `budget` (a patch cost, see `_cost`) and returns None once it cannot stay within it, so a
# cheap candidate (a shifted list, a wholesale replace) cuts the search for the others short.


def diff(old: Any, new: Any, path: str = "") -> Patch:
    """Return add/remove/replace operations turning JSON value `old` into `new` (neither is mutated).

    `path` is the JSON Pointer the values live at ("" for the document root). Equality is JSON equality:
    `True`, `1` and `1.0` all differ. A container is replaced whole when that is cheaper than patching it.
    Op values share structure with `new`: callers must not mutate either.
    """
    ops = _diff(old, new, path, math.inf)
    assert ops is not None  # an unlimited budget always fits
    return ops


def _diff(old: Any, new: Any, path: str, budget: float) -> Patch | None:
    replace_cost = 1 + _size(new)
    if isinstance(old, dict) and isinstance(new, dict):
        ops = _diff_dict(old, new, path, min(budget, replace_cost))
    elif isinstance(old, list) and isinstance(new, list):
        ops = _diff_list(old, new, path, 0, min(budget, replace_cost), shifts=True)
    else:
        ops = [] if _equal(old, new) else None
    if ops is not None:
        return ops
    return [{"op": "replace", "path": path, "value": new}] if replace_cost <= budget else None


def _equal(a: Any, b: Any) -> bool:
    """Deep JSON equality: scalars must also have the same type, so bool != int != float."""
    return a is b or (a == b and _same_types(a, b))  # Python's == (fast, in C) rules out most differences


def _same_types(a: Any, b: Any) -> bool:
    """For values Python deems equal: do their scalars have the same types too (True == 1 in Python)?"""
    if isinstance(a, dict):
        return isinstance(b, dict) and all(_same_types(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class _Builder:
    """Collects ops while their total cost stays within a budget."""

    def __init__(self, budget: float) -> None:
        self.ops: Patch = []
        self.cost = 0
        self.budget = budget

    def extend(self, ops: Patch | None) -> bool:
        """Add `ops` (None: a sub-diff that blew its budget); False once over budget."""
        if ops is None:
            return False
        self.ops.extend(ops)
        self.cost += _cost(ops)
        return self.cost <= self.budget


def _diff_dict(old: dict[str, Any], new: dict[str, Any], path: str, budget: float) -> Patch | None:
    out = _Builder(budget)
    for key, value in old.items():
        child = f"{path}/{_escape(key)}"
        sub = _diff(value, new[key], child, budget - out.cost) if key in new else [{"op": "remove", "path": child}]
        if not out.extend(sub):
            return None
    added = [{"op": "add", "path": f"{path}/{_escape(k)}", "value": v} for k, v in new.items() if k not in old]
    return out.ops if out.extend(added) else None


def _diff_list(old: list[Any], new: list[Any], path: str, start: int, budget: float, *, shifts: bool) -> Patch | None:
    """Diff lists whose element 0 sits at index `start` of the array at `path` (after earlier ops)."""
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, prefix)
    old_mid, new_mid = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    start += prefix
    best: Patch | None = None
    for head, old_rest, new_rest, offset in _alignments(old_mid, new_mid, path, start) if shifts else ():
        limit = budget if best is None else _cost(best) - 1  # ties keep the earlier (smaller k) candidate
        tail = _diff_list(old_rest, new_rest, path, offset, limit - _cost(head), shifts=False)
        best = best if tail is None else head + tail
    pairwise = _pairwise(old_mid, new_mid, path, start, budget if best is None else _cost(best))
    return best if pairwise is None else pairwise


def _common_prefix(old: list[Any], new: list[Any]) -> int:
    n, limit = 0, min(len(old), len(new))
    while n < limit and _equal(old[n], new[n]):
        n += 1
    return n


def _common_suffix(old: list[Any], new: list[Any], prefix: int) -> int:
    n, limit = 0, min(len(old), len(new)) - prefix
    while n < limit and _equal(old[-1 - n], new[-1 - n]):
        n += 1
    return n


def _pairwise(old: list[Any], new: list[Any], path: str, start: int, budget: float) -> Patch | None:
    """Diff index by index, then drop old's surplus (highest index first) or append new's surplus."""
    out = _Builder(budget)
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        if not out.extend(_diff(a, b, f"{path}/{start + i}", budget - out.cost)):
            return None
    surplus: Patch = [{"op": "remove", "path": f"{path}/{start + i}"} for i in range(len(old) - 1, len(new) - 1, -1)]
    surplus += [{"op": "add", "path": f"{path}/{start + i}", "value": new[i]} for i in range(len(old), len(new))]
    return out.ops if out.extend(surplus) else None


def _alignments(
    old: list[Any], new: list[Any], path: str, start: int
) -> Iterator[tuple[Patch, list[Any], list[Any], int]]:
    """Ways the list may have slid: (ops dropping k from old's front or inserting k at new's, rest to diff)."""
    for k in range(1, min(len(old), _MAX_SHIFT + 1)):
        if new and _equal(old[k], new[0]):
            yield [{"op": "remove", "path": f"{path}/{start + i}"} for i in range(k - 1, -1, -1)], old[k:], new, start
    for k in range(1, min(len(new), _MAX_SHIFT + 1)):
        if old and _equal(old[0], new[k]):
            adds: Patch = [{"op": "add", "path": f"{path}/{start + i}", "value": new[i]} for i in range(k)]
            yield adds, old, new[k:], start + k


def _cost(ops: Patch) -> int:
    """Rough wire size of a patch: one per op plus the JSON nodes in its values."""
    return sum(1 + _size(op["value"]) if "value" in op else 1 for op in ops)


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_size(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_size(v) for v in value)
    return 1


# --- apply --------------------------------------------------------------------------------------------------------


def apply(document: Any, patch: Patch) -> Any:
    """Apply add/remove/replace ops in order and return the new document; raises JSONPatchError.

    Neither `document` nor `patch` is mutated: containers on each op's path are copied, the rest (and the op
    values) are shared with the inputs, so treat the result as immutable or deep-copy it.
    """
    for op in patch:
        document = _apply_op(document, op)
    return document


def _apply_op(document: Any, op: Any) -> Any:
    if not isinstance(op, dict):
        raise JSONPatchError(f"patch operation must be an object, got {op!r}")
    name = op.get("op")
    if name not in ("add", "remove", "replace"):
        raise JSONPatchError(f"unsupported op {name!r} (only add, remove and replace)")
    if name != "remove" and "value" not in op:
        raise JSONPatchError(f"{name} op at {op.get('path')!r} has no value")
    tokens = _parse_pointer(op.get("path"))
    if not tokens:
        if name == "remove":
            raise JSONPatchError("cannot remove the document root")
        return op["value"]
    return _update(document, tokens, name, op.get("value"))


def _parse_pointer(path: Any) -> list[str]:
    if not isinstance(path, str):
        raise JSONPatchError(f"path must be a string, got {path!r}")
    if path == "":
        return []
    if not path.startswith("/") or _BAD_ESCAPE.search(path):
        raise JSONPatchError(f"invalid JSON Pointer {path!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _update(node: Any, tokens: list[str], name: str, value: Any) -> Any:
    """Return a copy of `node` with the op applied at `tokens` (copying only the containers on the way)."""
    token, rest = tokens[0], tokens[1:]
    if isinstance(node, dict):
        result: Any = dict(node)
        key: Any = token
        if rest or name != "add":
            _require(token in node, f"no member {token!r}")
    elif isinstance(node, list):
        result = list(node)
        key = _index(token, len(node), appending=name == "add" and not rest)
    else:
        raise JSONPatchError(f"cannot index into {type(node).__name__} with {token!r}")
    if rest:
        result[key] = _update(node[key], rest, name, value)
    elif name == "remove":
        del result[key]
    elif name == "add" and isinstance(result, list):
        result.insert(key, value)
    else:
        result[key] = value
    return result


def _index(token: str, length: int, *, appending: bool) -> int:
    if appending and token == "-":
        return length
    _require(_INDEX.fullmatch(token) is not None, f"invalid array index {token!r}")
    index = int(token)
    _require(index <= length if appending else index < length, f"array index {index} out of range")
    return index


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise JSONPatchError(message)
