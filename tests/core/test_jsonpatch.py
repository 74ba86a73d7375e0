"""JSON Patch diff/apply: round-trips (ours and the reference applier), compactness, escaping, apply errors."""

import copy
from typing import Any

import jsonpatch  # type: ignore[import-untyped,unused-ignore]  # stubs ship only in recent releases
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegql.core.jsonpatch import JSONPatchError, apply, diff

# Small scalar pools make equal-but-differently-typed values (True/1/1.0, 0/False/0.0) collide often.
_tricky = st.sampled_from([None, True, False, 0, 1, 0.0, 1.0, "", "1", "a"])
_scalars = st.one_of(
    _tricky,
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_keys = st.one_of(st.sampled_from(["a", "b", "/", "~", "~1", "~0", "a/b", "~/~", ""]), st.text(max_size=6))
json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(_keys, children, max_size=5),
    ),
    max_leaves=25,
)


def exact(a: Any, b: Any) -> bool:
    """Type-exact deep equality: True != 1 != 1.0, unlike Python's ==."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(exact(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(exact(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def check_round_trip(old: Any, new: Any) -> list[dict[str, Any]]:
    old_copy, new_copy = copy.deepcopy(old), copy.deepcopy(new)
    patch = diff(old, new)
    assert exact(old, old_copy)
    assert exact(new, new_copy)
    assert all(op["op"] in ("add", "remove", "replace") for op in patch)
    patch_copy = copy.deepcopy(patch)
    assert exact(apply(old, patch), new)
    assert exact(old, old_copy)
    assert exact(patch, patch_copy)
    assert exact(jsonpatch.apply_patch(old, patch), new)
    return patch


@settings(max_examples=300, deadline=None)
@given(json_values, json_values)
def test_round_trip_of_unrelated_values(old: Any, new: Any) -> None:
    check_round_trip(old, new)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=12), st.data())
def test_round_trip_of_overlapping_lists(base: list[Any], data: st.DataObject) -> None:
    """Windows of one list (slides, grows, shrinks, inserts) exercise the prefix/suffix and shift alignment."""
    n = len(base)
    i, j, k, m = (data.draw(st.integers(0, n)) for _ in range(4))
    extra = data.draw(st.lists(json_values, max_size=3))
    old = base[min(i, j) : max(i, j)]
    new = base[min(k, m) : max(k, m)]
    at = data.draw(st.integers(0, len(new)))
    check_round_trip(old, new[:at] + extra + new[at:])
    check_round_trip({"items": old}, {"items": new})


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_diff_of_equal_values_is_empty(value: Any) -> None:
    assert diff(value, value) == []
    assert diff(value, copy.deepcopy(value)) == []


def message(n: int) -> dict[str, Any]:
    return {"id": n, "text": f"message {n}", "author": {"name": "ada"}}


def test_sliding_window_is_one_remove_and_one_add() -> None:
    old = [message(n) for n in range(20)]
    new = [message(n) for n in range(1, 21)]
    assert diff(old, new) == [{"op": "remove", "path": "/0"}, {"op": "add", "path": "/19", "value": message(20)}]


@pytest.mark.parametrize("k", [1, 3, 8])
def test_window_sliding_by_k_in_either_direction_stays_small(k: int) -> None:
    old = [message(n) for n in range(20)]
    forward = [message(n) for n in range(k, 20 + k)]
    assert len(check_round_trip(old, forward)) == 2 * k
    newest_first = [message(n) for n in range(-k, 20 - k)]
    assert len(check_round_trip(old, newest_first)) == 2 * k


def test_a_container_is_replaced_whole_when_that_is_cheaper() -> None:
    assert diff([1, 2, 3], [4, 5, 6]) == [{"op": "replace", "path": "", "value": [4, 5, 6]}]
    assert diff({"keep": [0] * 9, "xs": [1, 2, 3]}, {"keep": [0] * 9, "xs": [4, 5, 6]}) == [
        {"op": "replace", "path": "/xs", "value": [4, 5, 6]}
    ]


def test_appending_and_removing_in_the_middle() -> None:
    assert diff([1, 2, 3], [1, 2, 3, 4]) == [{"op": "add", "path": "/3", "value": 4}]
    assert diff([1, 2, 3, 4], [1, 4]) == [{"op": "remove", "path": "/2"}, {"op": "remove", "path": "/1"}]
    assert diff({"xs": [1, 2]}, {"xs": [1, 9, 2]}) == [{"op": "add", "path": "/xs/1", "value": 9}]


def test_keys_are_escaped_per_rfc_6901() -> None:
    big = list(range(10))  # unchanged, so patching beats replacing the whole document
    old, new = {"a/b": 1, "m~n": 1, "big": big}, {"a/b": 2, "m~n": 2, "big": big, "~/": 3}
    patch = diff(old, new)
    assert patch == [
        {"op": "replace", "path": "/a~1b", "value": 2},
        {"op": "replace", "path": "/m~0n", "value": 2},
        {"op": "add", "path": "/~0~1", "value": 3},
    ]
    assert apply(old, patch) == new


@pytest.mark.parametrize(
    ("old", "new"), [(True, 1), (1, True), (0, False), (1, 1.0), ([1], [True]), ({"a": 0}, {"a": 0.0})]
)
def test_values_python_thinks_equal_are_different_json(old: Any, new: Any) -> None:
    patch = check_round_trip(old, new)
    assert len(patch) == 1
    assert patch[0]["op"] == "replace"
    assert type(patch[0]["value"]) is type(new) or isinstance(new, list | dict)


def test_nested_change_is_one_replace_at_the_nested_path() -> None:
    old = {"user": {"name": "ada", "tags": ["a", {"x": 1}]}, "n": 1}
    new = {"user": {"name": "ada", "tags": ["a", {"x": 2}]}, "n": 1}
    assert diff(old, new) == [{"op": "replace", "path": "/user/tags/1/x", "value": 2}]


def test_root_changes_replace_the_whole_document() -> None:
    assert diff(1, 2) == [{"op": "replace", "path": "", "value": 2}]
    assert diff([1], {"a": 1}) == [{"op": "replace", "path": "", "value": {"a": 1}}]
    assert diff(None, [1]) == [{"op": "replace", "path": "", "value": [1]}]
    assert diff({"a": 1}, {"a": 2}, "/data") == [{"op": "replace", "path": "/data/a", "value": 2}]


def test_apply_supports_dash_and_root_ops() -> None:
    assert apply([1], [{"op": "add", "path": "/-", "value": 2}]) == [1, 2]
    assert apply([1], [{"op": "add", "path": "", "value": 2}]) == 2
    assert apply({"a": 1}, [{"op": "replace", "path": "", "value": None}]) is None
    assert apply({"a": [1]}, [{"op": "add", "path": "/a/0", "value": 0}]) == {"a": [0, 1]}


@pytest.mark.parametrize(
    ("document", "op"),
    [
        ({"a": 1}, {"op": "move", "from": "/a", "path": "/b"}),
        ({"a": 1}, {"op": "test", "path": "/a", "value": 1}),
        ({"a": 1}, {"path": "/a"}),
        ({"a": 1}, {"op": "add", "path": "/b"}),
        ({"a": 1}, {"op": "remove", "path": "/b"}),
        ({"a": 1}, {"op": "replace", "path": "/b", "value": 2}),
        ({"a": 1}, {"op": "add", "path": "/b/c", "value": 2}),
        ({"a": 1}, {"op": "remove", "path": ""}),
        ({"a": 1}, {"op": "remove", "path": "a"}),
        ({"a": 1}, {"op": "remove", "path": "/~2"}),
        ({"a": 1}, {"op": "remove", "path": 3}),
        ([1, 2], {"op": "remove", "path": "/2"}),
        ([1, 2], {"op": "replace", "path": "/2", "value": 0}),
        ([1, 2], {"op": "add", "path": "/3", "value": 0}),
        ([1, 2], {"op": "remove", "path": "/-"}),
        ([1, 2], {"op": "remove", "path": "/01"}),
        ([1, 2], {"op": "remove", "path": "/x"}),
        ([[1]], {"op": "add", "path": "/-/0", "value": 0}),
        ({"a": 1}, {"op": "add", "path": "/a/0", "value": 0}),
        ({"a": "s"}, {"op": "replace", "path": "/a/0", "value": 0}),
        ([1], "not an op"),
    ],
)
def test_apply_rejects_invalid_ops(document: Any, op: Any) -> None:
    before = copy.deepcopy(document)
    with pytest.raises(JSONPatchError):
        apply(document, [op])
    assert document == before


def test_jsonpatch_error_is_a_value_error() -> None:
    assert issubclass(JSONPatchError, ValueError)
