"""The graphql-ws npm client (through Node.js, see node/graphql_ws_client.mjs) against a live server."""

import asyncio
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from livegql import PubSub
from livegql.broker.base import Subscription
from livegql.core import json
from livegql.protocol import CloseCode
from tests.interop.conftest import ADMIT_TOKEN, REJECT_REASON, Door
from tests.interop.node_support import NODE_PROJECT, require_node, run_script
from tests.support.server import LiveServer, subscribers
from tests.support.waiting import until

pytestmark = pytest.mark.node

SCRIPT = NODE_PROJECT / "graphql_ws_client.mjs"
NODE_TIMEOUT = 30.0  # the script gives up after 20 s on its own; this also covers Node's start-up
# Topics the script uses (node/graphql_ws_client.mjs: RELEASE_TOPIC, MUTATION_TOPIC).
RELEASE_TOPIC = "node-release"
MUTATION_TOPIC = "node-mutation"


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` executable; skips without Node or the npm install, except in CI where that must fail."""
    return require_node(("graphql-ws",), "graphql-ws interop tests")


@asynccontextmanager
async def node_client(node: str, url: str, scenario: str) -> AsyncIterator[Process]:
    """Start the script; its stdin stays open until the caller finishes (the release scenario waits on it)."""
    async with run_script(node, SCRIPT, url, scenario) as process:
        yield process


async def result_of(process: Process) -> dict[str, Any]:
    """Close the script's stdin, wait (bounded) for its one JSON line, and fail loudly on anything else."""
    if process.stdin is not None:
        process.stdin.close()  # communicate() without input leaves it open
    try:
        async with asyncio.timeout(NODE_TIMEOUT):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        raise AssertionError(f"node did not finish within {NODE_TIMEOUT}s") from None
    output = f"node exited {process.returncode}\nstdout: {stdout.decode()}\nstderr: {stderr.decode()}"
    assert process.returncode == 0, output
    lines = stdout.decode().splitlines()
    assert len(lines) == 1, output
    result: dict[str, Any] = json.loads(lines[0])
    assert result["ok"] is True, result
    return result


async def run_scenario(node: str, url: str, scenario: str) -> dict[str, Any]:
    async with node_client(node, url, scenario) as process:
        return await result_of(process)


async def test_query(node: str, server: LiveServer) -> None:
    result = await run_scenario(node, server.ws_url, "query")
    assert result["values"] == [{"data": {"hello": "Hello, node!"}}]
    assert result["completed"] is True


async def test_mutation_runs_its_resolver(node: str, server: LiveServer, pubsub: PubSub) -> None:
    async def listen() -> Subscription:
        return pubsub.subscribe(MUTATION_TOPIC)

    async def next_payload(subscription: Subscription) -> Any:
        return await anext(subscription)

    listener = await server.acall(listen())
    result = await run_scenario(node, server.ws_url, "mutation")
    assert result["values"] == [{"data": {"publish": True}}]
    assert result["completed"] is True
    # The resolver really ran: what it published is waiting on the server's PubSub.
    assert await server.acall(next_payload(listener)) == "from node"
    await server.acall(listener.aclose())


async def test_subscription_receives_100_events_in_order_then_completes(node: str, server: LiveServer) -> None:
    result = await run_scenario(node, server.ws_url, "subscription")
    assert result["values"] == [{"data": {"count": value}} for value in range(1, 101)]
    assert result["completed"] is True


async def test_client_side_complete_releases_the_server_subscription(
    node: str, server: LiveServer, pubsub: PubSub
) -> None:
    async with node_client(node, server.ws_url, "client-complete") as process:

        async def registered() -> bool:
            if process.returncode is not None:
                raise AssertionError(f"node exited early: {await result_of(process)}")
            return await subscribers(server, RELEASE_TOPIC) == 1

        async def released() -> bool:
            return await subscribers(server, RELEASE_TOPIC) == 0

        await until(registered, what="graphql-ws's subscription to reach the PubSub")
        await server.acall(pubsub.publish(RELEASE_TOPIC, "first"))
        # The script holds its socket open until we close its stdin, so only its Complete can free this.
        await until(released, what="the server to release the subscriber after the client's Complete")
        result = await result_of(process)
    assert result["first"]["data"] == {"topic": "first"}
    assert isinstance(result["first"]["extensions"]["position"], str)  # graphql-ws passes it through
    assert result["closesWhileHeld"] == []
    assert result["connections"] == 1
    assert result["after"] == {"values": [{"data": {"hello": "Hello, again!"}}], "completed": True}


async def test_validation_error_reaches_the_error_callback_as_graphql_errors(node: str, server: LiveServer) -> None:
    result = await run_scenario(node, server.ws_url, "validation-error")
    assert result["values"] == []
    assert result["completed"] is False
    errors = result["error"]["graphqlErrors"]
    assert len(errors) == 1
    assert errors[0]["message"] == "Cannot query field 'nope' on type 'Query'."
    assert errors[0]["locations"] == [{"line": 1, "column": 3}]


async def test_connection_params_reach_on_connect(node: str, guarded_server: LiveServer, door: Door) -> None:
    result = await run_scenario(node, guarded_server.ws_url, "connection-params")
    assert result["values"] == [{"data": {"whoami": "node"}}]
    assert door.seen == [{"token": ADMIT_TOKEN, "user": "node"}]


async def test_on_connect_rejection_surfaces_close_4403(node: str, guarded_server: LiveServer, door: Door) -> None:
    result = await run_scenario(node, guarded_server.ws_url, "rejected")
    assert result["values"] == []
    assert result["error"] == {"closeCode": CloseCode.FORBIDDEN, "closeReason": REJECT_REASON}
    assert door.seen == [{"token": "wrong"}]
