"""The translation of graphql-core 3.3's incremental payloads to the 2022 format: exact payloads that
graphql-core 3.3.2 wrote (hard-coded here; the main venv runs 3.2), and a property over generated responses:
merged as a 2022 client merges them, the translations build what the originals build."""

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livegql.core.errors import ProtocolMisuseError
from livegql.protocol.incremental import Legacy2022Translator

JSON = dict[str, Any]
LOCATION = [{"line": 1, "column": 3}]


def translate_all(payloads: list[JSON]) -> list[JSON | None]:
    translator = Legacy2022Translator()
    return [translator.translate(payload) for payload in payloads]


# Each case: what graphql-core 3.3.2 wrote for the query, and its 2022 form.
CASES: dict[str, tuple[list[JSON], list[JSON | None]]] = {
    '{ hello ... @defer(label: "s") { slow } }': (
        [
            {"data": {"hello": "world"}, "pending": [{"id": "0", "path": [], "label": "s"}], "hasNext": True},
            {"hasNext": False, "incremental": [{"data": {"slow": "done"}, "id": "0"}], "completed": [{"id": "0"}]},
        ],
        [
            {"data": {"hello": "world"}, "hasNext": True},
            {"incremental": [{"data": {"slow": "done"}, "path": [], "label": "s"}], "hasNext": False},
        ],
    ),
    # The stream's first index is the length of the list the initial payload holds.
    "{ hello items @stream(initialCount: 1) }": (
        [
            {"data": {"hello": "x", "items": ["i0"]}, "pending": [{"id": "0", "path": ["items"]}], "hasNext": True},
            {"hasNext": True, "incremental": [{"items": ["i1"], "id": "0"}]},
            {"hasNext": False, "incremental": [{"items": ["i2"], "id": "0"}], "completed": [{"id": "0"}]},
        ],
        [
            {"data": {"hello": "x", "items": ["i0"]}, "hasNext": True},
            {"incremental": [{"items": ["i1"], "path": ["items", 1]}], "hasNext": True},
            {"incremental": [{"items": ["i2"], "path": ["items", 2]}], "hasNext": False},
        ],
    ),
    # A list given whole (not a generator): the rest comes in one entry.
    "{ sync @stream(initialCount: 1) }": (
        [
            {"data": {"sync": ["a"]}, "pending": [{"id": "0", "path": ["sync"]}], "hasNext": True},
            {"hasNext": False, "incremental": [{"items": ["b", "c"], "id": "0"}], "completed": [{"id": "0"}]},
        ],
        [
            {"data": {"sync": ["a"]}, "hasNext": True},
            {"incremental": [{"items": ["b", "c"], "path": ["sync", 1]}], "hasNext": False},
        ],
    ),
    # A stream announced with the deferred fragment that holds its list.
    '{ obj { ... @defer(label: "O") { sub @stream(initialCount: 1, label: "S") } } }': (
        [
            {"data": {"obj": {}}, "pending": [{"id": "0", "path": ["obj"], "label": "O"}], "hasNext": True},
            {
                "hasNext": True,
                "pending": [{"id": "1", "path": ["obj", "sub"], "label": "S"}],
                "incremental": [{"data": {"sub": ["a"]}, "id": "0"}],
                "completed": [{"id": "0"}],
            },
            {"hasNext": False, "incremental": [{"items": ["b"], "id": "1"}], "completed": [{"id": "1"}]},
        ],
        [
            {"data": {"obj": {}}, "hasNext": True},
            {"incremental": [{"data": {"sub": ["a"]}, "path": ["obj"], "label": "O"}], "hasNext": True},
            {"incremental": [{"items": ["b"], "path": ["obj", "sub", 1], "label": "S"}], "hasNext": False},
        ],
    ),
    # Streams inside streamed items: each announced with the item that holds its list.
    "{ objs @stream(initialCount: 1) { id sub @stream(initialCount: 1) } }": (
        [
            {
                "data": {"objs": [{"id": "0", "sub": ["a"]}]},
                "pending": [{"id": "0", "path": ["objs"]}, {"id": "1", "path": ["objs", 0, "sub"]}],
                "hasNext": True,
            },
            {"hasNext": True, "incremental": [{"items": ["b"], "id": "1"}], "completed": [{"id": "1"}]},
            {
                "hasNext": True,
                "pending": [{"id": "2", "path": ["objs", 1, "sub"]}],
                "incremental": [{"items": [{"id": "1", "sub": ["a"]}], "id": "0"}],
            },
            {"hasNext": True, "incremental": [{"items": ["b"], "id": "2"}], "completed": [{"id": "2"}]},
            {
                "hasNext": True,
                "pending": [{"id": "3", "path": ["objs", 2, "sub"]}],
                "incremental": [{"items": [{"id": "2", "sub": ["a"]}], "id": "0"}],
                "completed": [{"id": "0"}],
            },
            {"hasNext": False, "incremental": [{"items": ["b"], "id": "3"}], "completed": [{"id": "3"}]},
        ],
        [
            {"data": {"objs": [{"id": "0", "sub": ["a"]}]}, "hasNext": True},
            {"incremental": [{"items": ["b"], "path": ["objs", 0, "sub", 1]}], "hasNext": True},
            {"incremental": [{"items": [{"id": "1", "sub": ["a"]}], "path": ["objs", 1]}], "hasNext": True},
            {"incremental": [{"items": ["b"], "path": ["objs", 1, "sub", 1]}], "hasNext": True},
            {"incremental": [{"items": [{"id": "2", "sub": ["a"]}], "path": ["objs", 2]}], "hasNext": True},
            {"incremental": [{"items": ["b"], "path": ["objs", 2, "sub", 1]}], "hasNext": False},
        ],
    ),
    # Payloads of only `completed` say nothing in the 2022 format, until the last.
    "{ gen @stream(initialCount: 1) other @stream ... @defer { slow } }": (
        [
            {
                "data": {"gen": ["g0"], "other": []},
                "pending": [{"id": "0", "path": []}, {"id": "1", "path": ["gen"]}, {"id": "2", "path": ["other"]}],
                "hasNext": True,
            },
            {"hasNext": True, "incremental": [{"items": ["g1"], "id": "1"}]},
            {"hasNext": True, "incremental": [{"items": ["o0"], "id": "2"}], "completed": [{"id": "2"}]},
            {"hasNext": True, "completed": [{"id": "1"}]},
            {"hasNext": False, "incremental": [{"data": {"slow": "done"}, "id": "0"}], "completed": [{"id": "0"}]},
        ],
        [
            {"data": {"gen": ["g0"], "other": []}, "hasNext": True},
            {"incremental": [{"items": ["g1"], "path": ["gen", 1]}], "hasNext": True},
            {"incremental": [{"items": ["o0"], "path": ["other", 0]}], "hasNext": True},
            None,
            {"incremental": [{"data": {"slow": "done"}, "path": []}], "hasNext": False},
        ],
    ),
    '{ list @stream(initialCount: 0, label: "L") }': (
        [
            {"data": {"list": []}, "pending": [{"id": "0", "path": ["list"], "label": "L"}], "hasNext": True},
            {"hasNext": True, "incremental": [{"items": ["i0"], "id": "0"}]},
            {"hasNext": True, "completed": [{"id": "0"}]},
            {"hasNext": False},
        ],
        [
            {"data": {"list": []}, "hasNext": True},
            {"incremental": [{"items": ["i0"], "path": ["list", 0], "label": "L"}], "hasNext": True},
            None,
            {"hasNext": False},
        ],
    ),
    # An item's own error stays with its entry; the stream goes on.
    "{ nullable @stream }": (
        [
            {"data": {"nullable": []}, "pending": [{"id": "0", "path": ["nullable"]}], "hasNext": True},
            {"hasNext": True, "incremental": [{"items": [1], "id": "0"}]},
            {
                "hasNext": True,
                "incremental": [
                    {
                        "items": [None],
                        "id": "0",
                        "errors": [{"message": "Int cannot represent", "locations": LOCATION, "path": ["nullable", 1]}],
                    }
                ],
            },
            {"hasNext": False, "incremental": [{"items": [3], "id": "0"}], "completed": [{"id": "0"}]},
        ],
        [
            {"data": {"nullable": []}, "hasNext": True},
            {"incremental": [{"items": [1], "path": ["nullable", 0]}], "hasNext": True},
            {
                "incremental": [
                    {
                        "items": [None],
                        "path": ["nullable", 1],
                        "errors": [{"message": "Int cannot represent", "locations": LOCATION, "path": ["nullable", 1]}],
                    }
                ],
                "hasNext": True,
            },
            {"incremental": [{"items": [3], "path": ["nullable", 2]}], "hasNext": False},
        ],
    ),
    # A stream that failed: `items: null` at the index its next item would have taken.
    '{ nnList @stream(initialCount: 0, label: "N") }': (
        [
            {"data": {"nnList": []}, "pending": [{"id": "0", "path": ["nnList"], "label": "N"}], "hasNext": True},
            {"hasNext": True, "incremental": [{"items": ["a"], "id": "0"}]},
            {
                "hasNext": False,
                "completed": [
                    {"id": "0", "errors": [{"message": "bad item", "locations": LOCATION, "path": ["nnList"]}]}
                ],
            },
        ],
        [
            {"data": {"nnList": []}, "hasNext": True},
            {"incremental": [{"items": ["a"], "path": ["nnList", 0], "label": "N"}], "hasNext": True},
            {
                "incremental": [
                    {
                        "items": None,
                        "path": ["nnList", 1],
                        "label": "N",
                        "errors": [{"message": "bad item", "locations": LOCATION, "path": ["nnList"]}],
                    }
                ],
                "hasNext": False,
            },
        ],
    ),
    # A deferred fragment that failed: `data: null` at its path.
    '{ obj { id ... @defer(label: "D") { boom } } }': (
        [
            {"data": {"obj": {"id": "9"}}, "pending": [{"id": "0", "path": ["obj"], "label": "D"}], "hasNext": True},
            {
                "hasNext": False,
                "completed": [{"id": "0", "errors": [{"message": "boom", "path": ["obj", "boom"]}]}],
            },
        ],
        [
            {"data": {"obj": {"id": "9"}}, "hasNext": True},
            {
                "incremental": [
                    {
                        "data": None,
                        "path": ["obj"],
                        "label": "D",
                        "errors": [{"message": "boom", "path": ["obj", "boom"]}],
                    }
                ],
                "hasNext": False,
            },
        ],
    ),
    # Fields shared by deferred fragments go out once, at a subPath of one of them.
    "{ ... @defer { obj { id } } obj { ... @defer { name } } }": (
        [
            {"data": {"obj": {}}, "pending": [{"id": "0", "path": ["obj"]}, {"id": "1", "path": []}], "hasNext": True},
            {
                "hasNext": False,
                "incremental": [
                    {"data": {"name": "n9"}, "id": "0"},
                    {"data": {"id": "9"}, "id": "1", "subPath": ["obj"]},
                ],
                "completed": [{"id": "0"}, {"id": "1"}],
            },
        ],
        [
            {"data": {"obj": {}}, "hasNext": True},
            {
                "incremental": [{"data": {"name": "n9"}, "path": ["obj"]}, {"data": {"id": "9"}, "path": ["obj"]}],
                "hasNext": False,
            },
        ],
    ),
}


@pytest.mark.parametrize("query", list(CASES))
def test_graphql_core_payloads(query: str) -> None:
    payloads, expected = CASES[query]
    assert translate_all(payloads) == expected


def test_a_result_that_is_not_incremental_is_left_alone() -> None:
    result = {"data": {"list": ["i0", "i1", "i2"]}}  # graphql-core's answer to @stream(initialCount: 5) here
    assert Legacy2022Translator().translate(result) is result


def test_top_level_errors_and_extensions_are_kept() -> None:
    translator = Legacy2022Translator()
    initial = {"data": {}, "errors": [{"message": "x"}], "pending": [{"id": "0", "path": []}], "hasNext": True}
    assert translator.translate(initial) == {"data": {}, "errors": [{"message": "x"}], "hasNext": True}
    entry = {"data": {"a": 1}, "id": "0", "extensions": {"cost": 1}}
    subsequent = {"hasNext": False, "incremental": [entry], "completed": [{"id": "0"}], "extensions": {"t": 2}}
    assert translator.translate(subsequent) == {
        "incremental": [{"data": {"a": 1}, "path": [], "extensions": {"cost": 1}}],
        "hasNext": False,
        "extensions": {"t": 2},
    }


def test_an_unknown_id_is_local_misuse() -> None:
    translator = Legacy2022Translator()
    translator.translate({"data": {}, "pending": [{"id": "0", "path": []}], "hasNext": True})
    with pytest.raises(ProtocolMisuseError):
        translator.translate({"hasNext": False, "incremental": [{"data": {}, "id": "7"}]})
    with pytest.raises(ProtocolMisuseError):
        translator.translate({"hasNext": False, "completed": [{"id": "7"}]})


# The property: generated responses (top-level streams and deferred fragments, streams announced with a deferred
# fragment's data, failures, any batching into payloads) build the same data and errors either way.


@dataclass
class Stream:
    path: list[str]
    items: list[int]
    initial: int
    chunks: list[list[int]]
    failure: list[JSON] | None


@dataclass
class Defer:
    path: list[str]
    name: str
    sub_path: list[str] = field(default_factory=list)
    nested: Stream | None = None  # announced with this fragment's data, which holds the list's first items


@st.composite
def streams(draw: st.DrawFn, path: list[str]) -> Stream:
    items = draw(st.lists(st.integers(0, 99), max_size=6))
    initial = draw(st.integers(0, len(items)))
    chunks, rest = [], items[initial:]
    while rest:
        size = draw(st.integers(1, len(rest)))
        chunks.append(rest[:size])
        rest = rest[size:]
    failure = draw(st.none() | st.just([{"message": f"{path[-1]} failed"}]))
    return Stream(path, items, initial, chunks, failure)


@st.composite
def defers(draw: st.DrawFn, number: int) -> Defer:
    # The fragment is on the root or on `o`; its data lands in `o` either way (a subPath from the root).
    on_root = draw(st.booleans())
    defer = Defer([] if on_root else ["o"], f"d{number}", ["o"] if on_root else [])
    if draw(st.booleans()):
        defer.nested = draw(streams(["o", f"inner{number}"]))
    return defer


class Response:
    """Writes one generated response as graphql-core 3.3 would, batching steps into payloads as drawn."""

    def __init__(self) -> None:
        self.payloads: list[JSON] = []
        self.current: JSON = {}
        self.next_id = 0

    def announce(self, path: list[Any], into: JSON) -> str:
        id, self.next_id = str(self.next_id), self.next_id + 1
        into.setdefault("pending", []).append({"id": id, "path": path})
        return id

    def stream_steps(self, stream: Stream, id: str) -> list[JSON]:
        steps: list[JSON] = [{"incremental": [{"items": chunk, "id": id}]} for chunk in stream.chunks]
        completed = {"id": id} if stream.failure is None else {"id": id, "errors": stream.failure}
        return [*steps, {"completed": [completed]}]

    def add(self, step: JSON) -> None:
        for key, values in step.items():
            self.current.setdefault(key, []).extend(values)

    def cut(self, has_next: bool) -> None:
        self.payloads.append({"hasNext": has_next, **self.current})
        self.current = {}


@st.composite
def responses(draw: st.DrawFn) -> list[JSON]:
    tops = [draw(streams([f"s{number}"])) for number in range(draw(st.integers(0, 3)))]
    fragments = [draw(defers(number)) for number in range(draw(st.integers(0, 3)))]
    response = Response()
    initial: JSON = {"data": {"o": {}, **{stream.path[0]: stream.items[: stream.initial] for stream in tops}}}
    queues = [response.stream_steps(stream, response.announce(stream.path, initial)) for stream in tops]
    for defer in fragments:
        id = response.announce(defer.path, initial)
        queues.append([{"defer": [(defer, id)]}])
    response.payloads.append({**initial, "hasNext": True})
    while queues := [queue for queue in queues if queue]:
        queue = queues[draw(st.integers(0, len(queues) - 1))]
        step = queue.pop(0)
        for defer, id in step.pop("defer", ()):
            queues.append(deliver(response, defer, id))
        response.add(step)
        if draw(st.booleans()):
            response.cut(has_next=True)
    response.cut(has_next=False)
    return response.payloads


def deliver(response: Response, defer: Defer, id: str) -> list[JSON]:
    """The step delivering a deferred fragment's data (announcing its nested stream), and that stream's steps."""
    data: JSON = {defer.name: 1}
    if defer.nested is not None:
        data[defer.nested.path[-1]] = defer.nested.items[: defer.nested.initial]
    entry: JSON = {"data": data, "id": id, **({"subPath": defer.sub_path} if defer.sub_path else {})}
    response.add({"incremental": [entry], "completed": [{"id": id}]})
    if defer.nested is None:
        return []
    return response.stream_steps(defer.nested, response.announce(defer.nested.path, response.current))


def merge_at(data: JSON, path: list[Any], value: JSON) -> None:
    target: Any = data
    for key in path:
        target = target[key]
    for key, each in value.items():
        if isinstance(each, dict) and isinstance(target.get(key), dict):
            merge_at(target, [key], each)
        else:
            target[key] = each


def merged_newer(payloads: list[JSON]) -> tuple[JSON, list[JSON]]:
    """What a client of graphql-core 3.3's format builds: entries placed by their pending id's path."""
    data, errors = payloads[0]["data"], list(payloads[0].get("errors", []))
    paths: dict[str, list[Any]] = {}
    for payload in payloads:
        paths.update((pending["id"], pending["path"]) for pending in payload.get("pending", []))
        for entry in payload.get("incremental", []):
            path = paths[entry["id"]]
            if "items" in entry:
                list_at(data, path).extend(entry["items"])
            else:
                merge_at(data, [*path, *entry.get("subPath", [])], entry["data"])
            errors.extend(entry.get("errors", []))
        for completed in payload.get("completed", []):
            errors.extend(completed.get("errors", []))
    return data, errors


def merged_2022(payloads: list[JSON]) -> tuple[JSON, list[JSON]]:
    """What a client of the 2022 format builds; a streamed item's index must be the list's next one."""
    data, errors = payloads[0]["data"], list(payloads[0].get("errors", []))
    for payload in payloads[1:]:
        for entry in payload.get("incremental", []):
            path = entry["path"]
            if "items" in entry and entry["items"] is not None:
                target = list_at(data, path[:-1])
                assert path[-1] == len(target), (path, target)
                target.extend(entry["items"])
            elif "data" in entry and entry["data"] is not None:
                merge_at(data, path, entry["data"])
            errors.extend(entry.get("errors", []))
    return data, errors


def list_at(data: JSON, path: list[Any]) -> list[Any]:
    target: Any = data
    for key in path:
        target = target[key]
    assert isinstance(target, list)
    return target


def copied(payloads: list[JSON]) -> list[JSON]:
    return copy.deepcopy(payloads)


@given(responses())
def test_translations_build_what_the_originals_build(payloads: list[JSON]) -> None:
    translated = translate_all(copied(payloads))
    sent = [payload for payload in translated if payload is not None]
    assert merged_2022(copied(sent)) == merged_newer(copied(payloads))
    # Nothing of the newer format's bookkeeping leaks out; only an empty, unfinished payload is dropped.
    for original, payload in zip(payloads, translated, strict=True):
        if payload is None:
            assert original["hasNext"] is True
            assert not original.get("incremental")
            assert not any("errors" in completed for completed in original.get("completed", []))
            continue
        assert not {"pending", "completed"} & payload.keys()
        for entry in payload.get("incremental", []):
            assert not {"id", "subPath"} & entry.keys()
    assert sent[-1]["hasNext"] is False
