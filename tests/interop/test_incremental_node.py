"""Incremental delivery (@defer, @stream over multipart/mixed) read by npm clients through Node.js (see
node/incremental_client.mjs): Apollo Client 4 with its GraphQL17Alpha9Handler (`incrementalSpec=v0.2`, the
format graphql-core 3.3 writes) and its Defer20220824Handler (`deferSpec=20220824`, translated), and urql's
fetchExchange (plain `multipart/mixed`, answered in the 2022 format). Each must surface the partial result first
and then merge what follows into the right place.

graphql-core 3.2 cannot execute @defer or @stream: these tests run only where graphql-core 3.3 or newer is
installed.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from graphql import GraphQLResolveInfo

from livegql import LiveGQL
from tests.interop.node_support import NODE_PROJECT, require_node, run_script, script_result
from tests.support.server import LiveServer, serve

pytestmark = [pytest.mark.node, pytest.mark.gql33]

SCRIPT = NODE_PROJECT / "incremental_client.mjs"

# No @defer or @stream declarations: livegql adds them where graphql-core can deliver incrementally.
SDL = """
type Query {
  hello(name: String = "world"): String!
  slow: String!
  letters: [String!]!
}
"""
SLOW = "slow result"
LETTERS = ["a", "b", "c"]
# Long enough apart that each part reaches the client on its own.
DELAY = 0.2

# The format each client asks for, by the Content-Type of the answer (node/incremental_client.mjs's clients).
CONTENT_TYPES = {
    "apollo-alpha9": 'multipart/mixed;boundary="graphql";incrementalSpec=v0.2',
    "apollo-2022": 'multipart/mixed;boundary="graphql";deferSpec=20220824',
    "urql": 'multipart/mixed;boundary="graphql";deferSpec=20220824',
}


def make_resolvers() -> dict[str, dict[str, Any]]:
    def hello(_: Any, __: GraphQLResolveInfo, name: str) -> str:
        return f"Hello, {name}!"

    async def slow(_: Any, __: GraphQLResolveInfo) -> str:
        await asyncio.sleep(DELAY)
        return SLOW

    async def letters(_: Any, __: GraphQLResolveInfo) -> AsyncIterator[str]:
        for letter in LETTERS:
            yield letter
            await asyncio.sleep(DELAY)

    return {"Query": {"hello": hello, "slow": slow, "letters": letters}}


@pytest.fixture(scope="module")
def node() -> str:
    return require_node(("@apollo/client", "@urql/core", "rxjs"), "incremental delivery interop tests")


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with serve(LiveGQL(SDL, resolvers=make_resolvers(), keepalive_interval=None)) as live:
        yield live


@pytest.fixture(params=list(CONTENT_TYPES))
def client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def run(node: str, server: LiveServer, client: str, scenario: str) -> dict[str, Any]:
    async with run_script(node, SCRIPT, server.http_url, client, scenario) as process:
        result = await script_result(process)
    content_types = [exchange["contentType"] for exchange in result["exchanges"]]
    assert content_types == [CONTENT_TYPES[client]] * 2, result["exchanges"]
    return result


def surfaced(result: dict[str, Any]) -> list[Any]:
    """The data of each result the client surfaced, without Apollo's empty loading state and the `__typename`
    Apollo's cache adds to a fragment's selection."""
    return [
        without_typename(each["data"]) for each in result["results"] if each.get("dataState", "complete") != "empty"
    ]


def without_typename(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: without_typename(value) for key, value in data.items() if key != "__typename"}
    return data


async def test_defer(node: str, server: LiveServer, client: str) -> None:
    result = await run(node, server, client, "defer")
    assert not any("error" in each for each in result["results"]), result
    hello = {"hello": "Hello, defer!"}
    # First the initial payload alone (`slow` still pending), then the deferred fragment merged into it.
    assert surfaced(result) == [hello, {**hello, "slow": SLOW}], result
    if client.startswith("apollo"):
        assert [each["dataState"] for each in result["results"]] == ["empty", "streaming", "complete"], result
    else:
        assert [each["hasNext"] for each in result["results"]] == [True, False], result
    assert without_typename(result["final"]) == {"data": {**hello, "slow": SLOW}}, result


async def test_stream(node: str, server: LiveServer, client: str) -> None:
    result = await run(node, server, client, "stream")
    assert not any("error" in each for each in result["results"]), result
    lists = [data["letters"] for data in surfaced(result)]
    # The initial payload holds `initialCount` items; each later one lands after them, where its index says (a
    # misplaced item would leave a gap, overwrite one, or land beside the list).
    assert lists[0] == LETTERS[:1], result
    assert lists[-1] == LETTERS, result
    assert all(later[: len(earlier)] == earlier for earlier, later in itertools.pairwise(lists)), result
    assert result["final"] == {"data": {"letters": LETTERS}}, result
