"""Apollo Client 4 (through Node.js, see node/apollo_client.mjs) against a live server, over graphql-ws
(GraphQLWsLink) and over HTTP (HttpLink, which sends subscriptions as multipart/mixed requests): the conformance
scenario, an unsubscribe the server must act on, and a refusal by `on_connect`."""

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

SCRIPT = NODE_PROJECT / "apollo_client.mjs"
# Topics the script uses (node/apollo_client.mjs: MUTATION_TOPIC, RELEASE_TOPIC).
MUTATION_TOPIC = "apollo-mutation"
RELEASE_TOPIC = "apollo-release"


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` executable; skips without Node or the npm install, except in CI where that must fail."""
    return require_node(("@apollo/client", "rxjs", "graphql-ws", "ws"), "Apollo Client interop tests")


@pytest.fixture(params=["ws", "multipart"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_conformance(node: str, transport: str, guarded_server: LiveServer, door: Door) -> None:
    listener = await listen(guarded_server, MUTATION_TOPIC)
    async with run_script(node, SCRIPT, url_for(guarded_server, transport), transport, "conformance", ADMIT_TOKEN) as p:
        result = await script_result(p)
    await check_conformance_results(result, guarded_server, listener, "apollo")
    invalid = result["invalid"]
    assert (invalid["values"], invalid["completed"]) == ([], False), result
    assert any("nope" in message for message in error_messages(invalid["error"])), invalid
    assert_on_connect_admitted(door, scope_of(transport))


async def test_unsubscribe_releases_the_server_subscription(
    node: str, transport: str, guarded_server: LiveServer, door: Door
) -> None:
    async with run_script(node, SCRIPT, url_for(guarded_server, transport), transport, "cancel", ADMIT_TOKEN) as p:
        result = await release_check(guarded_server, p, RELEASE_TOPIC)
    assert result["first"]["data"] == {"topic": "first"}
    assert result["after"] == {"values": [{"data": {"hello": "Hello, again!"}}], "completed": True}
    assert result["closesWhileHeld"] == []
    assert_on_connect_admitted(door, scope_of(transport))
    if transport == "ws":
        assert len(door.visits) == 1  # one socket, held open: only the client's Complete could release it


async def test_on_connect_refusal_surfaces(node: str, transport: str, guarded_server: LiveServer, door: Door) -> None:
    async with run_script(node, SCRIPT, url_for(guarded_server, transport), transport, "rejected", "wrong") as p:
        result = await script_result(p)
    query = result["query"]
    assert (query["values"], query["completed"]) == ([], False), result
    if transport == "ws":
        # GraphQLWsLink turns the close into an Error naming its code and reason.
        assert f"{int(CloseCode.FORBIDDEN)} {REJECT_REASON}" in query["error"]["message"], result
        assert door.visits == [Visit("websocket", None, {"token": "wrong"}, None)]
    else:
        assert [exchange["status"] for exchange in result["exchanges"]] == [403], result
        assert REJECT_REASON in error_messages(query["error"]), result
        assert [(visit.scope_type, visit.authorization) for visit in door.visits] == [("http", "Bearer wrong")]
