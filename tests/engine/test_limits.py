"""Document limits (tokens, depth, aliases, root fields, operations) and production mode (no introspection, no
"Did you mean" suggestions), enforced by the document cache and the executor's variable coercion."""

import time
from typing import Any

import pytest
from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    build_schema,
    get_introspection_query,
    parse,
)

from livegql.core.config import Settings
from livegql.engine import DocumentLimits, Executor, RequestError
from livegql.engine.limit_rules import LIMIT_CODE, deepest_field, root_field_count

SCHEMA = build_schema("""
enum Color { RED GREEN BLUE }
input Paint { color: Color! }
type Node { id: ID! name: String child: Node }
type Query {
  hello: String
  node: Node
  paint(color: Color!): String
  fill(paint: Paint!): String
  echo(text: String!): String
}
""")

SUGGESTION = "Did you mean"


def executor(**settings: Any) -> Executor:
    return Executor(SCHEMA, limits=DocumentLimits.from_settings(Settings(**settings)))


def errors_of(query: str, **settings: Any) -> list[GraphQLError]:
    """The errors preparing `query` under `settings` gives (none when it prepares)."""
    try:
        executor(**settings).prepare(query)
    except RequestError as error:
        return error.errors
    return []


def limit_error(query: str, setting: str, **settings: Any) -> GraphQLError:
    """The one error refusing `query` for the limit `setting`."""
    errors = errors_of(query, **settings)
    assert len(errors) == 1, errors
    error = errors[0]
    assert error.extensions == {"code": LIMIT_CODE, "setting": setting}
    assert f"Settings.{setting}" in error.message
    return error


# --- tokens ------------------------------------------------------------------------------------------------------


def test_a_document_of_exactly_max_tokens_passes_and_one_more_is_refused() -> None:
    assert errors_of("{ hello hello hello }", max_tokens=5) == []  # { hello hello hello }: 5 tokens
    error = limit_error("{ hello hello hello hello }", "max_tokens", max_tokens=5)
    assert error.message == "Document has more than 5 tokens (limit: Settings.max_tokens)."


def test_comments_count_against_the_token_limit_too() -> None:
    assert errors_of("# one\n# two\n{ hello }", max_tokens=3) == []
    error = limit_error("# one\n# two\n# three\n# four\n{ hello }", "max_tokens", max_tokens=3)
    assert error.message == "Document has more than 3 comments (limit: Settings.max_tokens)."


def test_other_syntax_errors_stay_syntax_errors() -> None:
    (error,) = errors_of("{ hello", max_tokens=5)
    assert error.message.startswith("Syntax Error")
    assert error.extensions == {}


# --- depth -------------------------------------------------------------------------------------------------------

DEPTH_4 = "{ node { child { child { id } } } }"


def test_exactly_max_depth_passes_and_one_level_more_is_refused() -> None:
    assert errors_of(DEPTH_4, max_depth=4) == []
    error = limit_error(DEPTH_4, "max_depth", max_depth=3)
    assert error.message == "The anonymous operation is nested more than 3 levels deep (limit: Settings.max_depth)."


def test_depth_follows_fragment_spreads_and_names_the_operation() -> None:
    query = "query Deep { node { ...F } } fragment F on Node { child { ...G } } fragment G on Node { child { id } }"
    assert errors_of(query, max_depth=4) == []
    assert limit_error(query, "max_depth", max_depth=3).message.startswith("Operation 'Deep' is nested")


def test_inline_fragments_add_no_depth_and_typename_counts_as_a_field() -> None:
    assert errors_of("{ node { ... on Node { ... { child { id } } } } }", max_depth=3) == []
    limit_error("{ node { child { __typename } } }", "max_depth", max_depth=2)


def test_fragment_cycles_are_refused_without_looping() -> None:
    cycles = [
        "{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { child { ...A } }",
        "{ node { ...A } } fragment A on Node { ...A }",
        "{ node { ...A } } fragment A on Node { id ...B } fragment B on Node { name ...A }",
    ]
    started = time.monotonic()
    for query in cycles:
        errors = errors_of(query, max_depth=1000)
        assert any("Cannot spread fragment" in error.message for error in errors), errors
    assert time.monotonic() - started < 5.0


def test_a_long_chain_of_spreads_does_not_recurse() -> None:
    # graphql-core's own validation gives up on such a chain (ValidationAbortedError); the counting must not crash.
    links = " ".join(f"fragment F{n} on Query {{ hello ...F{n + 1} }}" for n in range(5000))
    document = parse(f"{{ ...F0 }} {links} fragment F5000 on Query {{ node {{ id }} }}")
    operation, *fragments = document.definitions
    by_name = {fragment.name.value: fragment for fragment in fragments if isinstance(fragment, FragmentDefinitionNode)}
    assert isinstance(operation, OperationDefinitionNode)
    assert deepest_field(operation.selection_set, by_name.get, 10) == 2
    assert root_field_count(operation.selection_set, by_name.get) == 5001  # 5,000 hello, one node


# --- aliases, root fields, operations ----------------------------------------------------------------------------


def test_exactly_max_aliases_passes_and_one_more_is_refused() -> None:
    assert errors_of("{ a: hello b: hello ...F } fragment F on Query { c: hello }", max_aliases=3) == []
    error = limit_error("{ a: hello b: hello node { c: id d: id } }", "max_aliases", max_aliases=3)
    assert error.message == "Document has 4 aliased fields, more than 3 (limit: Settings.max_aliases)."


def test_root_fields_count_through_fragments_spread_at_the_root() -> None:
    query = "{ hello ... on Query { node { id name } } ...F ...F } fragment F on Query { __typename }"
    assert errors_of(query, max_root_fields=3) == []  # hello, node, __typename: F counted once
    error = limit_error(query, "max_root_fields", max_root_fields=2)
    assert error.message == (
        "The anonymous operation selects 3 root fields, more than 2 (limit: Settings.max_root_fields)."
    )


def test_exactly_max_operations_passes_and_one_more_is_refused() -> None:
    two = "query A { hello } query B { hello }"
    assert executor(max_operations_per_document=2).prepare(two, "A").operation_name == "A"
    error = limit_error(two + " query C { hello }", "max_operations_per_document", max_operations_per_document=2)
    assert error.message.startswith("Document defines 3 operations, more than 2")


def test_a_refused_document_is_refused_again_from_the_cache() -> None:
    limited = executor(max_depth=2)
    with pytest.raises(RequestError) as first:
        limited.prepare(DEPTH_4)
    with pytest.raises(RequestError) as again:
        limited.prepare(DEPTH_4)
    assert again.value.errors == first.value.errors
    assert len(limited.documents) == 1


@pytest.mark.parametrize("options", [{}, {"descriptions": True, "specified_by_url": True, "schema_description": True}])
def test_the_default_limits_admit_the_introspection_query(options: dict[str, bool]) -> None:
    query = get_introspection_query(directive_is_repeatable=True, input_value_deprecation=True, **options)
    assert executor().prepare(query).operation_name is None


# --- production mode ---------------------------------------------------------------------------------------------

SCHEMA_QUERY = "{ __schema { queryType { name } } }"
TYPE_QUERY = '{ __type(name: "Node") { name } }'


def test_introspection_is_allowed_by_default_and_refused_in_production() -> None:
    for query in (SCHEMA_QUERY, TYPE_QUERY):
        assert errors_of(query) == []
        refused = errors_of(query, production=True)
        assert refused
        assert all("introspection has been disabled" in error.message for error in refused)
    assert errors_of("{ __typename node { __typename } }", production=True) == []


def test_explicit_introspection_overrides_production() -> None:
    assert errors_of(SCHEMA_QUERY, production=True, introspection=True) == []
    assert errors_of(SCHEMA_QUERY, introspection=False) != []


def test_field_suggestions_present_by_default_and_absent_in_production() -> None:
    for query in ("{ helo }", "{ paint(color: REDD) }", "{ fill(paint: { colr: RED }) }"):
        assert any(SUGGESTION in error.message for error in errors_of(query)), query
        hidden = errors_of(query, production=True)
        assert hidden
        assert not any(SUGGESTION in error.message for error in hidden), hidden
        assert any(SUGGESTION in error.message for error in errors_of(query, production=True, field_suggestions=True))


def bind_errors(query: str, variables: dict[str, Any], **settings: Any) -> list[GraphQLError]:
    engine = executor(**settings)
    with pytest.raises(RequestError) as refused:
        engine.bind(engine.prepare(query), variables)
    return refused.value.errors


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query ($c: Color!) { paint(color: $c) }", {"c": "REDD"}),
        ("query ($p: Paint!) { fill(paint: $p) }", {"p": {"colr": "RED"}}),
        ("query ($p: Paint!) { fill(paint: $p) }", {"p": {"color": "GREN"}}),
    ],
)
def test_variable_errors_suggest_by_default_and_not_in_production(query: str, variables: dict[str, Any]) -> None:
    assert any(SUGGESTION in error.message for error in bind_errors(query, variables))
    hidden = bind_errors(query, variables, production=True)
    assert not any(SUGGESTION in error.message for error in hidden), hidden


def test_simple_variable_errors_carry_no_suggestion_either_way() -> None:
    # The fast path (engine/variables.py) hands every failure to graphql-core, so its errors are graphql-core's.
    for production in (False, True):
        for variables in ({}, {"n": 5}):
            (error,) = bind_errors("query ($n: String!) { echo(text: $n) }", variables, production=production)
            assert "$n" in error.message
            assert SUGGESTION not in error.message
