"""urql (@urql/core 6, through Node.js, see node/urql_client.mjs) against a live server, over graphql-ws
(subscriptionExchange forwarding every operation to a graphql-ws client) and over HTTP (fetchExchange with
`fetchSubscriptions`, which reads event-stream or multipart answers): the conformance scenario, an unsubscribe the
server must act on, and a refusal by `on_connect`."""

import pytest

from livegql.protocol import CloseCode
from tests.interop.conftest import ADMIT_TOKEN, REJECT_REASON, Door, Visit
from tests.interop.node_support import (
    NODE_PROJECT,
    assert_on_connect_admitted,
    check_conformance_results,
    error_messages,
    listen,
    release_check,
    require_node,
    run_script,
    scope_of,
    script_result,
    url_for,
)
from tests.support.server import LiveServer

pytestmark = pytest.mark.node

SCRIPT = NODE_PROJECT / "urql_client.mjs"
# Topics the script uses (node/urql_client.mjs: MUTATION_TOPIC, RELEASE_TOPIC).
MUTATION_TOPIC = "urql-mutation"
RELEASE_TOPIC = "urql-release"
JSON_MEDIA = {"application/graphql-response+json", "application/json"}


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` executable; skips without Node or the npm install, except in CI where that must fail."""
    return require_node(("@urql/core", "graphql-ws", "ws"), "urql interop tests")


@pytest.fixture(params=["ws", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_conformance(node: str, transport: str, guarded_server: LiveServer, door: Door) -> None:
    listener = await listen(guarded_server, MUTATION_TOPIC)
    async with run_script(node, SCRIPT, url_for(guarded_server, transport), transport, "conformance", ADMIT_TOKEN) as p:
        result = await script_result(p)
    await check_conformance_results(result, guarded_server, listener, "urql")
    invalid = result["invalid"]
    assert invalid["completed"] is False, result
    assert any("nope" in message for message in error_messages(invalid["error"])), invalid
    assert_on_connect_admitted(door, scope_of(transport))
    if transport == "http":
        # urql's Accept for queries and mutations lists the JSON types first (event stream and multipart after);
        # answered with an event stream, urql aborts the stream it is still reading once it has the result.
        media = [exchange["contentType"].split(";")[0] for exchange in result["exchanges"]]
        assert len(media) == 4, result["exchanges"]  # query, mutation, subscription, invalid query
        assert {media[0], media[1], media[3]} <= JSON_MEDIA, result["exchanges"]
    assert result["unhandledRejections"] == [], result


async def test_unsubscribe_releases_the_server_subscription(
    node: str, transport: str, guarded_server: LiveServer, door: Door
) -> None:
    async with run_script(node, SCRIPT, url_for(guarded_server, transport), transport, "cancel", ADMIT_TOKEN) as p:
        result = await release_check(guarded_server, p, RELEASE_TOPIC)
    assert result["first"]["data"] == {"topic": "first"}
    assert result["after"] == {"values": [{"data": {"hello": "Hello, again!"}}], "completed": True}
    assert result["closesWhileHeld"] == []
    assert result["unhandledRejections"] == [], result
    assert_on_connect_admitted(door, scope_of(transport))
    if transport == "ws":
        assert len(door.visits) == 1  # one socket, held open: only the client's Complete could release it


async def test_on_connect_refusal_surfaces(node: str, transport: str, guarded_server: LiveServer, door: Door) -> None:
    async with run_script(node, SCRIPT, url_for(guarded_server, transport), transport, "rejected", "wrong") as p:
        result = await script_result(p)
    query = result["query"]
    assert (query["values"], query["completed"]) == ([], False), result
    error = query["error"]
    if transport == "ws":
        assert error["networkError"] == {"closeCode": CloseCode.FORBIDDEN, "closeReason": REJECT_REASON}, result
        assert door.visits == [Visit("websocket", None, {"token": "wrong"}, None)]
    else:
        assert error["status"] == 403, result  # urql keeps the response next to the GraphQL errors of its body
        assert REJECT_REASON in error_messages(error), result
        assert [(visit.scope_type, visit.authorization) for visit in door.visits] == [("http", "Bearer wrong")]
