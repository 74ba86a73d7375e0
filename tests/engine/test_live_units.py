"""The pieces of live queries on their own: `is_live`, `with_live_directive`, resource keys, revisions and the
live-query sink's latest-only policy."""

from typing import Any, cast

import pytest
from graphql import GraphQLResolveInfo, GraphQLSchema, OperationDefinitionNode, build_schema, parse, validate

from livegql import add_resource_keys
from livegql.core import json
from livegql.core.jsonpatch import apply
from livegql.engine import Executor
from livegql.engine.keys import KeyCollector
from livegql.engine.operations import is_live
from livegql.engine.revision import Revision
from livegql.engine.schema import build_schema_with_resolvers, with_live_directive
from livegql.transport.counters import TransportCounters
from livegql.transport.sinks import LiveQuerySink
from tests.support.live_helpers import SDL, Store, make_resolvers


def operation(text: str) -> OperationDefinitionNode:
    node = parse(text).definitions[0]
    assert isinstance(node, OperationDefinitionNode)
    return node


@pytest.mark.parametrize(
    ("text", "variables", "live"),
    [
        ("query @live { a }", None, True),
        ("query @live(if: true) { a }", None, True),
        ("query @live(if: false) { a }", None, False),
        ("query { a }", None, False),
        ("{ a }", None, False),
        ("query @other @live { a }", None, True),
        ("query ($v: Boolean!) @live(if: $v) { a }", {"v": True}, True),
        ("query ($v: Boolean!) @live(if: $v) { a }", {"v": False}, False),
        ("query ($v: Boolean = true) @live(if: $v) { a }", None, True),
        ("mutation @live { a }", None, False),
        ("subscription @live { a }", None, False),
    ],
)
def test_is_live(text: str, variables: dict[str, Any] | None, live: bool) -> None:
    assert is_live(operation(text), variables) is live


def test_is_live_honours_a_variable_default_of_false() -> None:
    assert is_live(operation("query ($v: Boolean = false) @live(if: $v) { a }"), None) is False


def test_with_live_directive_declares_live_once() -> None:
    plain = build_schema("type Query { a: Int }")
    assert validate(plain, parse("query @live { a }"))  # unknown directive
    schema = with_live_directive(plain)
    assert validate(schema, parse("query @live { a }")) == []
    assert validate(schema, parse("query @live(if: false) { a }")) == []
    assert validate(schema, parse("{ a @live }"))  # a query-level directive only
    assert with_live_directive(schema) is schema
    own = build_schema("directive @live(throttle: Int) on QUERY type Query { a: Int }")
    declared = with_live_directive(own)
    assert declared.get_directive("live") is own.get_directive("live")  # its own @live is kept
    assert with_live_directive(declared) is declared
    assert validate(declared, parse("query @live(throttle: 2) { a }")) == []


KEYS_SDL = """
interface Node { id: ID! }
type Query { tags: [Tag!]! later: Item thing: Thing node(id: ID!): Node }
type Tag { id: ID! label: String! }
type Item { id: ID! name: String! }
type Thing { name: String! }
type Message implements Node { id: ID! text: String! }
"""


def keys_schema() -> GraphQLSchema:
    async def later(_: Any, info: GraphQLResolveInfo) -> dict[str, str]:
        add_resource_keys(info, "Shop:main", "Shop:other")
        return {"id": "9", "name": "late"}

    resolvers: dict[str, dict[str, Any]] = {
        "Query": {
            "tags": lambda _, __: [{"n": 1, "label": "a"}, {"n": 2, "label": "b"}],
            "later": later,
            "thing": lambda _, __: {"name": "no id"},
            "node": lambda _, __, id: {"__typename": "Message", "id": id, "text": "x"},
        },
        "Tag": {"id": lambda tag, _: f"t{tag['n']}"},  # only this resolver knows the id
    }
    return build_schema_with_resolvers(KEYS_SDL, resolvers)


async def collect(schema: GraphQLSchema, query: str, context: dict[str, Any] | None = None) -> set[str]:
    executor = Executor(schema)
    keys: set[str] = set()
    context = {"resource_keys": keys} if context is None else context
    result = await executor.execute(executor.prepare(query), None, context, middleware=[KeyCollector(schema, keys)])
    assert result.errors is None
    return keys


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('{ messages(room: "general") { text } }', {"Query.messages", "Message:1", "Room:general"}),
        ('{ item(id: "1") { name } }', {"Query.item", "Item:1"}),
        ('{ item(id: "2") { name } }', {"Query.item"}),
        ("{ counter other }", {"Query.counter", "Query.other"}),
    ],
)
async def test_keys_of_root_fields_objects_and_resolvers(query: str, expected: set[str]) -> None:
    schema = build_schema_with_resolvers(SDL, make_resolvers(Store()))
    assert await collect(schema, query) == expected


async def test_keys_of_custom_ids_async_results_and_added_keys() -> None:
    schema = keys_schema()
    assert await collect(schema, "{ tags { id label } }") == {"Query.tags", "Tag:t1", "Tag:t2"}
    assert await collect(schema, "{ tags { label } }") == {"Query.tags"}  # an id nobody asked for is unknown
    assert await collect(schema, "{ later { name } }") == {"Query.later", "Item:9", "Shop:main", "Shop:other"}
    assert await collect(schema, "{ thing { name } }") == {"Query.thing"}


async def test_add_resource_keys_outside_a_live_query_does_nothing() -> None:
    schema = keys_schema()
    keys = await collect(schema, "{ later { name } }", context={})
    assert "Shop:main" not in keys


async def test_an_object_reached_through_an_interface_is_keyed_by_its_type() -> None:
    assert await collect(keys_schema(), '{ node(id: "1") { id ... on Message { text } } }') == {
        "Query.node",
        "Message:1",
    }


def revision_chain(*results: tuple[Any, bool]) -> list[Revision]:
    revisions: list[Revision] = []
    previous: Revision | None = None
    for data, has_errors in results:
        full = {"data": data, **({"errors": [{"message": "boom"}]} if has_errors else {})}
        previous = Revision.after(previous, json.dumps(full), data, has_errors)
        revisions.append(previous)
    return revisions


def test_revisions_number_and_patch_against_the_previous_data() -> None:
    one, two, three = revision_chain(({"a": [1, 2]}, False), ({"a": [1, 2, 3]}, False), ({"a": [], "b": 1}, False))
    assert [r.number for r in (one, two, three)] == [1, 2, 3]
    assert one.patch is None  # nothing to patch against
    assert json.loads(one.numbered) == {"data": {"a": [1, 2]}, "revision": 1}
    for before, after in ((one, two), (two, three)):
        assert after.patch is not None
        patch = json.loads(after.patch)
        assert patch["revision"] == after.number
        assert apply(before.data, patch["patch"]) == after.data


def test_a_revision_with_errors_or_after_errors_is_sent_whole() -> None:
    _, failed, recovered = revision_chain(({"a": 1}, False), ({"a": None}, True), ({"a": 2}, False))
    assert failed.patch is None
    assert recovered.patch is None
    assert json.loads(failed.numbered) == {"data": {"a": None}, "errors": [{"message": "boom"}], "revision": 2}


class StubConnection:
    """What LiveQuerySink uses of a WebSocketConnection: the outbox's `full`, the machine, flush, defer and the
    counters."""

    def __init__(self) -> None:
        self.counters = TransportCounters()
        self.full = False
        self.sent: list[Any] = []
        self.deferred: list[LiveQuerySink] = []
        self.outbox = self
        self.machine = self

    def send_next(self, id: str, payload: str) -> bool:
        self.sent.append(json.loads(payload))
        return True

    def flush(self) -> None:
        pass

    def defer(self, sink: LiveQuerySink) -> None:
        self.deferred.append(sink)


@pytest.mark.parametrize("patches", [True, False])
def test_a_full_send_queue_keeps_only_the_latest_revision(patches: bool) -> None:
    revisions = revision_chain(*(({"n": n}, False) for n in range(1, 6)))
    connection = StubConnection()
    sink = LiveQuerySink(cast(Any, connection), "q", patches=patches)
    sink.push_revision(revisions[0])
    sink.push_revision(revisions[1])
    connection.full = True
    sink.push_revision(revisions[2])
    sink.push_revision(revisions[3])
    assert len(connection.sent) == 2
    assert connection.deferred == [sink]  # deferred once, however many results wait
    assert connection.counters.live_coalesced == 1  # revision 3 replaced by 4 while waiting
    connection.full = False
    sink.release()
    sink.push_revision(revisions[4])
    assert connection.counters.live_deliveries == 4
    if patches:
        assert connection.sent[0] == {"data": {"n": 1}, "revision": 1}
        assert connection.sent[1]["revision"] == 2
        assert "patch" in connection.sent[1]
        assert connection.sent[2] == {"data": {"n": 4}, "revision": 4}  # revision 3 was skipped: sent whole
        assert connection.sent[3] == {"patch": [{"op": "replace", "path": "/n", "value": 5}], "revision": 5}
    else:
        assert connection.sent == [{"data": {"n": n}} for n in (1, 2, 4, 5)]
