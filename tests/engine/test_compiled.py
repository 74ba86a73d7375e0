"""A compiled subscription plan gives exactly what graphql-core gives, or gives up; it never guesses."""

from enum import Enum
from typing import Any

import pytest
from graphql import ExecutionResult, execute, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from livegql.engine.compiled import GIVE_UP, compile_subscription
from livegql.engine.schema import build_schema_with_resolvers, event_as_value

SDL = """
type Query { x: Int }
type Subscription { feed: Item!, maybe: Item, plain: Item, computed: Item! }
type Item { id: ID!, text: String, count: Int!, ratio: Float, ok: Boolean, color: Color, owner: Owner }
type Owner { name: String! }
enum Color { RED, BLUE }
"""


class Color(Enum):
    RED = "RED"
    BLUE = "BLUE"


def _subscribe(_: Any, __: Any) -> Any:
    raise NotImplementedError  # never subscribed here: only per-event execution is compared


SCHEMA = build_schema_with_resolvers(
    SDL,
    {"Subscription": {"feed": _subscribe, "maybe": _subscribe, "computed": _subscribe}},
)
SCHEMA.subscription_type.fields["plain"].subscribe = _subscribe  # type: ignore[union-attr]
SCHEMA.subscription_type.fields["computed"].resolve = lambda event, _info: event  # type: ignore[union-attr]

QUERIES = [
    "subscription { feed { id text count } }",
    "subscription { maybe { ratio ok color __typename } }",
    "subscription { a: feed { b: text owner { name } } }",
    "subscription { plain { id owner { name } } }",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**33), max_value=2**33),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.sampled_from(["RED", "BLUE", "GREEN"]),
)
OWNERS = st.one_of(st.none(), st.fixed_dictionaries({"name": VALUES}), st.just({}))
ITEMS = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "id": VALUES,
            "text": VALUES,
            "count": VALUES,
            "ratio": VALUES,
            "ok": VALUES,
            "color": VALUES,
            "owner": OWNERS,
        },
    ),
)


@settings(max_examples=300, deadline=None)
@given(query=st.sampled_from(QUERIES), item=ITEMS)
def test_a_plan_agrees_with_graphql_core_or_gives_up(query: str, item: Any) -> None:
    document = parse(query)
    operation = document.definitions[0]
    plan = compile_subscription(SCHEMA, operation, event_as_value)  # type: ignore[arg-type]
    assert plan is not None
    root = query.split("{")[1].rsplit(maxsplit=1)[-1].rsplit(":", maxsplit=1)[-1].strip()
    event = item if root != "plain" else {"plain": item}
    expected = execute(SCHEMA, document, root_value=event)
    assert isinstance(expected, ExecutionResult)
    got = plan(event)
    if got is GIVE_UP:
        return
    assert not expected.errors, f"the plan answered where graphql-core reports {expected.errors}"
    assert got == expected.data
    assert repr(got) == repr(expected.data)  # the same types too (1 vs 1.0 vs True)


def test_a_plan_gives_up_on_a_null_where_graphql_core_reports_an_error() -> None:
    plan = compile_subscription(SCHEMA, parse("subscription { feed { count } }").definitions[0], event_as_value)  # type: ignore[arg-type]
    assert plan is not None
    assert plan({"count": None}) is GIVE_UP
    assert plan({"count": "many"}) is GIVE_UP
    assert plan({"count": 3}) == {"feed": {"count": 3}}


@pytest.mark.parametrize(
    "query",
    [
        "subscription { computed { id } }",  # a resolver of the app's own on the root field
        "subscription { feed { ...F } } fragment F on Item { id }",
        "subscription { feed { id @include(if: true) } }",
        "subscription { feed { id } maybe { id } }",
        "subscription { feed { id id: text } }",
        "subscription { __typename }",
    ],
)
def test_anything_beyond_plain_reads_is_left_to_graphql_core(query: str) -> None:
    operation = parse(query).definitions[0]
    assert compile_subscription(SCHEMA, operation, event_as_value) is None  # type: ignore[arg-type]
