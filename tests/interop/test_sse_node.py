"""The graphql-sse npm client (through Node.js, see node/sse_client.mjs) against a live server, in distinct
connections mode (one streaming request per operation) and single connection mode (a reserved stream, operations
POSTed to it, DELETE to stop one): the conformance scenario, an unsubscribe the server must act on, and a refusal
by `on_connect`."""

import pytest

from tests.interop.conftest import ADMIT_TOKEN, REJECT_REASON, Door
from tests.interop.node_support import (
    NODE_PROJECT,
    assert_on_connect_admitted,
    check_conformance_results,
    error_messages,
    listen,
    release_check,
    require_node,
    run_script,
    script_result,
)
from tests.support.server import LiveServer

pytestmark = pytest.mark.node

SCRIPT = NODE_PROJECT / "sse_client.mjs"
# Topics the script uses (node/sse_client.mjs: MUTATION_TOPIC, RELEASE_TOPIC).
MUTATION_TOPIC = "sse-mutation"
RELEASE_TOPIC = "sse-release"


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` executable; skips without Node or the npm install, except in CI where that must fail."""
    return require_node(("graphql-sse",), "graphql-sse interop tests")


@pytest.fixture(params=["distinct", "single"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_conformance(node: str, mode: str, guarded_server: LiveServer, door: Door) -> None:
    listener = await listen(guarded_server, MUTATION_TOPIC)
    async with run_script(node, SCRIPT, guarded_server.http_url, mode, "conformance", ADMIT_TOKEN) as process:
        result = await script_result(process)
    await check_conformance_results(result, guarded_server, listener, "sse")
    # graphql-sse's spec streams a validation error as a result in distinct mode; a 400 answer is a NetworkError.
    invalid = result["invalid"]
    messages = [message for value in invalid["values"] for message in error_messages({"body": value})]
    if "error" in invalid:
        messages += error_messages(invalid["error"])
    assert any("nope" in message for message in messages), invalid
    assert_on_connect_admitted(door, "http")


async def test_unsubscribe_releases_the_server_subscription(
    node: str, mode: str, guarded_server: LiveServer, door: Door
) -> None:
    async with run_script(node, SCRIPT, guarded_server.http_url, mode, "cancel", ADMIT_TOKEN) as process:
        result = await release_check(guarded_server, process, RELEASE_TOPIC)
    assert result["first"]["data"] == {"topic": "first"}
    assert result["after"] == {"values": [{"data": {"hello": "Hello, again!"}}], "completed": True}
    assert result["lateErrors"] == []
    assert_on_connect_admitted(door, "http")
    if mode == "single":
        # The reserved stream stayed open (lazy: false), so graphql-sse's DELETE is what released the subscriber.
        methods = [(exchange["method"], exchange["status"]) for exchange in result["exchanges"]]
        assert methods == [("PUT", 201), ("GET", 200), ("POST", 202), ("DELETE", 200), ("POST", 202)], result


async def test_on_connect_refusal_surfaces_403(node: str, mode: str, guarded_server: LiveServer, door: Door) -> None:
    async with run_script(node, SCRIPT, guarded_server.http_url, mode, "rejected", "wrong") as process:
        result = await script_result(process)
    query = result["query"]
    assert (query["values"], query["completed"]) == ([], False), result
    error = query["error"]
    assert error["status"] == 403, result  # NetworkError keeps the response: its status and GraphQL error body
    assert error["body"]["errors"][0]["message"] == REJECT_REASON, result
    first = "PUT" if mode == "single" else "POST"  # single mode reserves its stream first
    assert [(exchange["method"], exchange["status"]) for exchange in result["exchanges"]] == [(first, 403)], result
    assert [(visit.method, visit.authorization) for visit in door.visits] == [(first, "Bearer wrong")]
