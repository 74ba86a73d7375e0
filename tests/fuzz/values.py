"""Hypothesis strategies shared by every transport: JSON values, GraphQL documents (sound, broken, over the
limits), and the mutations that break a well-formed message."""

import json
from typing import Any, Final

from hypothesis import strategies as st

from tests.fuzz.spec_json import MAX_DEPTH, TextBytes

INTS: Final = st.integers(-(2**53), 2**53)
# Keys that never name a field the server reads (`refresh`, `resumeAfter`, ...): extra keys stay extra.
KEYS: Final = st.text(max_size=8).map(lambda key: "x" + key)
SCALARS: Final = st.none() | st.booleans() | INTS | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON: Final = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=10
)
OBJECTS: Final = st.dictionaries(KEYS, JSON, max_size=4)
NON_STRINGS: Final = st.none() | st.booleans() | INTS | st.lists(SCALARS, max_size=2) | OBJECTS

# Operations that run until stopped, and the operation name each may be sent with.
HELD: Final = (
    ('subscription { topic(name: "fuzz") }', None),
    ('subscription Watch { topic(name: "fuzz-watch") }', "Watch"),
    ("query Live @live { hello }", "Live"),
)


def _deep_introspection(depth: int) -> str:
    """A valid selection `depth` levels deep (introspection types nest without end): over max_depth (20)."""
    return "{ __schema { types { " + "ofType { " * depth + "name" + " }" * depth + " } } }"


def _aliases(count: int) -> str:
    return "{ " + " ".join(f"a{n}: hello" for n in range(count)) + " }"


# Operations that end by themselves: results, or errors from parsing, validation, limits or variables.
ENDING: Final[tuple[tuple[str, dict[str, Any] | None], ...]] = (
    ("{ hello }", None),
    ('{ hello(name: "fuzz") add(a: 1, b: 2) }', None),
    ("query Q($n: String) { hello(name: $n) }", {"n": "x"}),
    ("query Q($n: String) { hello(name: $n) }", {"n": 5}),
    ("query A($a: Int!, $b: Int!) { add(a: $a, b: $b) }", {"a": "one", "b": None}),
    ("query A($a: Int!, $b: Int!) { add(a: $a, b: $b) }", {}),
    ("{ boom }", None),
    ("subscription { count(to: 2) }", None),
    ("subscription { failing }", None),
    ('mutation { publish(topic: "fuzz-void", text: "x") }', None),
    ("{ nope }", None),
    ("{", None),
    ("", None),
    ("query { hello } query { hello }", None),
    (_deep_introspection(25), None),
    (_aliases(40), None),
    ("{ " + "hello " * 3000 + "}", None),
    ("subscription { topic(name: 5) }", None),
)
GRAPHQL_TOKENS: Final = st.sampled_from(
    ["{", "}", "(", ")", "query", "subscription", "mutation", "hello", "add", "a:", "$v", ":", "...", "@live",
     "fragment", "on", "Query", '"s"', "1", "[", "]", "!", "=", "#", "\n", "__typename", "count", "to:"]
)  # fmt: skip
RANDOM_QUERIES: Final = st.text(max_size=60) | st.lists(GRAPHQL_TOKENS, max_size=30).map(" ".join)


@st.composite
def ending_request(draw: st.DrawFn) -> dict[str, Any]:
    """A GraphQL request that ends by itself (a sound one, or one that fails)."""
    if draw(st.integers(0, 4)) == 0:
        request: dict[str, Any] = {"query": draw(RANDOM_QUERIES)}
    else:
        query, variables = draw(st.sampled_from(ENDING))
        request = {"query": query}
        if variables is not None:
            request["variables"] = variables
    if draw(st.integers(0, 5)) == 0:
        request["variables"] = draw(OBJECTS)
    if draw(st.integers(0, 6)) == 0:
        request["operationName"] = draw(st.sampled_from(("Q", "A", "Nope", "")))
    return request


@st.composite
def held_request(draw: st.DrawFn) -> dict[str, Any]:
    query, name = draw(st.sampled_from(HELD))
    request: dict[str, Any] = {"query": query}
    if name is not None and draw(st.booleans()):
        request["operationName"] = name
    if draw(st.integers(0, 4)) == 0:
        request["variables"] = draw(st.none() | OBJECTS)  # the operation declares none: they are ignored
    return request


@st.composite
def mutated(draw: st.DrawFn, message: dict[str, Any]) -> Any:
    """`message` with one defect: a field missing or of a wrong type, or an unknown `type`, or not an object.
    Values that could make it a different sound message (a string id, query or operationName) are not drawn."""
    message = json.loads(json.dumps(message))
    choice = draw(st.integers(0, 5))
    nested = isinstance(message.get("payload"), dict) and draw(st.booleans())
    target = message["payload"] if nested else message
    if choice == 0 and target:
        del target[draw(st.sampled_from(sorted(target)))]
    elif choice == 1 and target:
        target[draw(st.sampled_from(sorted(target)))] = draw(NON_STRINGS)
    elif choice == 2:
        message["type"] = draw(st.text(max_size=12) | NON_STRINGS)
    elif choice == 3:
        return draw(st.sampled_from(([message], [], "message", 7, None, True)))
    elif choice == 4:
        message[draw(KEYS)] = draw(JSON)  # an extra field: still well-formed
    else:
        message["type"] = draw(st.sampled_from(("next", "error", "complete", "connection_ack", "data", "ka",
                                                "start", "stop", "subscribe", "ping", "connection_error")))  # fmt: skip
    return message


def nested(depth: int) -> str:
    """JSON text nesting objects `depth` deep (built as text: a recursive encoder would hit its own limit)."""
    return '{"x":' * depth + '"bottom"' + "}" * depth


DEEP: Final = (nested(50), nested(MAX_DEPTH * 4), "[" * 100_000)  # readable; beyond any limit; both and huge


@st.composite
def encoded(draw: st.DrawFn, message: Any) -> str | bytes:
    """`message` as a frame: usually its JSON text, else as binary, truncated, corrupted, padded or huge."""
    style = draw(st.integers(0, 30))
    text = json.dumps(message, separators=draw(st.sampled_from(((",", ":"), (", ", ": ")))))
    if style <= 21:
        return text
    style -= 10
    if style == 12:
        return text.encode()  # a binary frame carrying the same JSON
    if style == 13:
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]  # truncated
    if style in (14, 20):
        raw = text.encode()
        at = draw(st.integers(0, len(raw)))
        corrupted = raw[:at] + draw(st.sampled_from((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"))) + raw[at:]
        return TextBytes(corrupted) if draw(st.booleans()) else corrupted  # in a text frame, or a binary one
    if style == 15:
        return draw(st.sampled_from((" \n\t", "\ufeff"))) + text
    if style == 16:
        return draw(st.binary(max_size=40))
    if style == 17:
        return draw(st.text(max_size=40))
    if style == 18:
        return text[:-1] + ',"x":"' + "x" * 70_000 + '"}' if text.endswith("}") else "x" * 70_000  # too large
    return draw(st.sampled_from(DEEP))  # deep, as a whole frame
