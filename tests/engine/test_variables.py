"""The fast path for built-in scalar variables agrees with graphql-core whenever it answers at all."""

from typing import Any

from graphql import build_schema, parse
from graphql.execution.values import get_variable_values
from hypothesis import given, settings
from hypothesis import strategies as st

from livegql.engine.variables import coerce_simple_variables

SCHEMA = build_schema("type Query { f(s: String, i: Int, x: Float, b: Boolean, d: ID, e: E): String } enum E { A }")
TYPES = ["String", "Int", "Float", "Boolean", "ID"]
JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


def definitions(declared: list[tuple[str, str, bool]]) -> Any:
    variables = ", ".join(f"${name}: {type_}{'!' if required else ''}" for name, type_, required in declared)
    document = parse(f"query Q({variables}) {{ f }}" if declared else "query Q { f }")
    operation = document.definitions[0]
    return operation.variable_definitions or ()  # type: ignore[attr-defined]  # graphql-core 3.3: None when empty


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    return type(a) is type(b) and a == b


@settings(max_examples=400, deadline=None)
@given(
    declared=st.lists(st.tuples(st.sampled_from(TYPES), st.booleans()), max_size=4),
    values=st.lists(st.one_of(st.just("absent"), JSON_VALUES), min_size=4, max_size=4),
)
def test_the_fast_path_matches_graphql_core_or_declines(declared: list[tuple[str, bool]], values: list[Any]) -> None:
    named = [(f"v{index}", type_, required) for index, (type_, required) in enumerate(declared)]
    raw = {name: value for (name, _, _), value in zip(named, values, strict=False) if value != "absent"}
    nodes = definitions(named)
    fast = coerce_simple_variables(SCHEMA, nodes, raw)
    reference = get_variable_values(SCHEMA, nodes, raw)
    if fast is not None:
        assert not isinstance(reference, list), f"fast path accepted what graphql-core refuses: {raw}"
        # graphql-core 3.3 returns VariableValues(sources, coerced) where 3.2 returns the coerced values.
        assert same(fast, getattr(reference, "coerced", reference))


def test_anything_beyond_built_in_scalars_goes_to_graphql_core() -> None:
    enum = parse("query Q($e: E) { f }").definitions[0].variable_definitions  # type: ignore[attr-defined]
    listed = parse("query Q($l: [Int]) { f }").definitions[0].variable_definitions  # type: ignore[attr-defined]
    defaulted = parse('query Q($s: String = "x") { f }').definitions[0].variable_definitions  # type: ignore[attr-defined]
    assert coerce_simple_variables(SCHEMA, enum, {"e": "A"}) is None
    assert coerce_simple_variables(SCHEMA, listed, {"l": [1]}) is None
    assert coerce_simple_variables(SCHEMA, defaulted, {}) is None


def test_common_cases_take_the_fast_path() -> None:
    nodes = definitions([("s", "String", True), ("i", "Int", False), ("x", "Float", True), ("d", "ID", True)])
    assert coerce_simple_variables(SCHEMA, nodes, {"s": "a", "x": 2, "d": 7}) == {"s": "a", "x": 2.0, "d": "7"}
    assert coerce_simple_variables(SCHEMA, nodes, {"s": "a", "i": None, "x": 1.5, "d": "k"}) == {
        "s": "a",
        "i": None,
        "x": 1.5,
        "d": "k",
    }
