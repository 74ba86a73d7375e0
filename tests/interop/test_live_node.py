"""Live queries and shared subscriptions with npm's graphql-ws client, patches applied by npm's fast-json-patch
(through Node.js, see node/live_query_client.mjs), against a live server."""

import asyncio
import functools
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
from graphql import GraphQLResolveInfo

from livegql import LiveGQL, PubSub
from livegql.core import json
from tests.interop.node_support import NODE_PROJECT, require_node, run_script
from tests.support.server import LiveServer, serve
from tests.support.waiting import until

T = TypeVar("T")

pytestmark = pytest.mark.node

SCRIPT = NODE_PROJECT / "live_query_client.mjs"
NODE_TIMEOUT = 30.0  # the script gives up after 20 s on its own; this also covers Node's start-up
REQUIRED_PACKAGES = ("graphql-ws", "fast-json-patch")

SDL = """
type Query { board(id: ID!): Board }
type Board { id: ID!, title: String!, cards: [Card!]! }
type Card { id: ID!, text: String!, done: Boolean! }
type Subscription { topic(name: String!): String! }
"""
BOARD = 'query Board @live { board(id: "b1") { id title cards { id text done } } }'
SHARED = "subscription Shared($name: String!) { topic(name: $name) }"


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` executable; skips without Node or the npm install, except in CI where that must fail."""
    return require_node(REQUIRED_PACKAGES, "graphql-ws live-query interop tests")


class Boards:
    """The app's data: boards of cards, changed by the test on the server's loop (where queries run)."""

    def __init__(self) -> None:
        self.boards: dict[str, dict[str, Any]] = {
            "b1": {
                "id": "b1",
                "title": "Todo",
                "cards": [
                    {"id": "c1", "text": "milk", "done": False},
                    {"id": "c2", "text": "eggs", "done": False},
                ],
            },
        }

    def snapshot(self) -> dict[str, Any]:
        """What BOARD's result data must be now."""
        board = self.boards["b1"]
        return {"board": {**board, "cards": [dict(card) for card in board["cards"]]}}


@pytest.fixture
def boards() -> Boards:
    return Boards()


@pytest.fixture
def live_server(boards: Boards) -> Iterator[LiveServer]:
    def board(_: Any, __: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        return boards.boards.get(id)

    async def topic(_: Any, info: GraphQLResolveInfo, name: str) -> AsyncIterator[str]:
        async for text in info.context["pubsub"].subscribe(name):
            yield text

    resolvers: dict[str, dict[str, Any]] = {"Query": {"board": board}, "Subscription": {"topic": topic}}
    with serve(LiveGQL(SDL, resolvers=resolvers, pubsub=PubSub(), keepalive_interval=None)) as live:
        yield live


@asynccontextmanager
async def node_client(node: str, url: str, scenario: str, options: dict[str, Any]) -> AsyncIterator[Process]:
    """Start the script; it runs until the caller closes its stdin (see `outcome`)."""
    async with run_script(node, SCRIPT, url, scenario, json.dumps(options)) as process:
        yield process


async def progress(process: Process) -> dict[str, Any]:
    """The script's next progress line (bounded wait); its outcome instead means it failed."""
    assert process.stdout is not None
    try:
        async with asyncio.timeout(NODE_TIMEOUT):
            line = await process.stdout.readline()
    except TimeoutError:
        raise AssertionError(f"node printed nothing within {NODE_TIMEOUT}s") from None
    if not line:
        raise AssertionError(f"node ended early: {await failure(process)}")
    message: dict[str, Any] = json.loads(line)
    assert "event" in message, f"node ended early: {message}\n{await failure(process)}"
    return message


async def failure(process: Process) -> str:
    async with asyncio.timeout(NODE_TIMEOUT):
        stdout, stderr = await process.communicate()
    return f"node exited {process.returncode}\nstdout: {stdout.decode()}\nstderr: {stderr.decode()}"


async def outcome(process: Process) -> dict[str, Any]:
    """Close the script's stdin (it stops its operations), wait (bounded) for its last line; fail on anything else."""
    assert process.stdin is not None
    process.stdin.close()
    try:
        async with asyncio.timeout(NODE_TIMEOUT):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        raise AssertionError(f"node did not finish within {NODE_TIMEOUT}s") from None
    output = f"node exited {process.returncode}\nstdout: {stdout.decode()}\nstderr: {stderr.decode()}"
    assert process.returncode == 0, output
    lines = stdout.decode().splitlines()
    assert len(lines) == 1, output  # every progress line was read as it came; only the outcome is left
    result: dict[str, Any] = json.loads(lines[0])
    assert result["ok"] is True, result
    return result


async def change(server: LiveServer, boards: Boards, edit: Any, *keys: str) -> dict[str, Any]:
    """On the server's loop: apply `edit` to the data, then invalidate `keys`; returns the new expected data."""

    async def run() -> dict[str, Any]:
        edit(boards.boards["b1"])
        await server.app.invalidate(*keys)
        return boards.snapshot()

    return await server.acall(run())


async def on_server(server: LiveServer, probe: Callable[[], T]) -> T:
    """Evaluate `probe` on the server's loop, where the hubs live."""

    async def run() -> T:
        return probe()

    return await server.acall(run())


async def counted(server: LiveServer, executions: int) -> bool:
    return await on_server(server, lambda: server.app.live.executions) == executions


def rename(board: dict[str, Any]) -> None:
    board["title"] = "Shopping"


def append(board: dict[str, Any]) -> None:
    board["cards"].append({"id": "c3", "text": "bread", "done": False})


def drop_first(board: dict[str, Any]) -> None:
    del board["cards"][0]


def tick(board: dict[str, Any]) -> None:
    board["cards"][0].update(text="eggs (12)", done=True)


def unchanged(board: dict[str, Any]) -> None:
    pass


async def drive_board(node: str, server: LiveServer, boards: Boards, options: dict[str, Any]) -> list[dict[str, Any]]:
    """Watch BOARD from Node through a series of changes, each announced by a different resource key; every
    result the script reconstructed must equal the data as it was then. Returns the script's results."""
    async with node_client(node, server.ws_url, "live-query", {"query": BOARD, **options}) as process:
        expected = [boards.snapshot()]
        assert (await progress(process))["data"] == expected[-1]
        steps = [
            (rename, ("Board:b1",)),  # an automatic key: an object with an id
            (append, ("Board:b1",)),
            (drop_first, ("Card:c1",)),  # a card's own key, though the change removes it
            (tick, ("Query.board",)),  # a root field's automatic key
        ]
        for edit, keys in steps:
            # A re-execution whose result did not change pushes nothing: once it has run, the next result the
            # script shows is the change made after it. (The resolvers never await, so an execution counted
            # on the server's loop has also finished.)
            rerun = functools.partial(counted, server, await on_server(server, lambda: server.app.live.executions) + 1)
            await change(server, boards, unchanged, "Board:b1")
            await until(rerun, what="the re-execution after an invalidation that changes nothing")
            expected.append(await change(server, boards, edit, *keys))
            assert (await progress(process))["data"] == expected[-1]
        assert await on_server(server, lambda: server.app.live.executions) == 1 + 2 * len(steps)
        result = await outcome(process)
    assert [item["data"] for item in result["results"]] == expected
    assert "error" not in result
    assert result["completed"] is False  # a live query ends only when the client stops it
    results: list[dict[str, Any]] = result["results"]
    return results


async def test_graphql_ws_applies_live_patches_with_fast_json_patch(
    node: str, live_server: LiveServer, boards: Boards
) -> None:
    results = await drive_board(node, live_server, boards, {"connectionParams": {"livePatches": True}})
    assert [(item["kind"], item["revision"]) for item in results] == [
        ("full", 1),
        ("patch", 2),
        ("patch", 3),
        ("patch", 4),
        ("patch", 5),
    ]
    # Patches, not results in disguise: renaming the board replaces just its title.
    assert results[1]["patch"] == [{"op": "replace", "path": "/board/title", "value": "Shopping"}]
    assert boards.snapshot()["board"]["cards"] == [
        {"id": "c2", "text": "eggs (12)", "done": True},
        {"id": "c3", "text": "bread", "done": False},
    ]


async def test_graphql_ws_receives_a_plain_live_query_as_full_results(
    node: str, live_server: LiveServer, boards: Boards
) -> None:
    results = await drive_board(node, live_server, boards, {})
    assert [(item["kind"], item["revision"]) for item in results] == [("full", None)] * 5


@pytest.mark.parametrize(
    ("params", "streams"),
    [
        pytest.param([None, None, None], 1, id="same-identity-one-stream"),
        pytest.param([{"user": "ann"}, {"user": "bob"}, {"user": "ann"}], 2, id="two-users-two-streams"),
    ],
)
async def test_identical_subscriptions_of_graphql_ws_clients_share_one_stream(
    node: str, live_server: LiveServer, params: list[dict[str, Any] | None], streams: int
) -> None:
    app = live_server.app
    options = {
        "query": SHARED,
        "variables": {"name": "shared"},
        "clients": [{"connectionParams": each} for each in params],
    }
    events = ["one", "two", "three"]
    async with node_client(node, live_server.ws_url, "shared-subscription", options) as process:
        assert await progress(process) == {"event": "ready"}  # every client's Subscribe is registered
        # One source per sharing group (connection_init payloads are part of the default identity).
        assert await on_server(live_server, lambda: app.subscriptions.stream_count) == streams
        assert await on_server(live_server, lambda: app.pubsub.subscriber_count("shared")) == streams
        for text in events:
            await live_server.acall(app.pubsub.publish("shared", text))
        received = [await progress(process) for _ in range(len(params) * len(events))]
        result = await outcome(process)
    assert all(item["event"] == "next" for item in received)
    data = [[{"data": value["data"]} for value in values] for values in result["values"]]
    assert data == [[{"data": {"topic": text}} for text in events]] * len(params)
    # One execution per event per stream, however many clients each stream serves.
    assert await on_server(live_server, lambda: app.subscriptions.executions) == streams * len(events)
