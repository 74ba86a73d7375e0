"""The legacy subscriptions-transport-ws npm client (through Node.js, see node/legacy_client.mjs) against a
live server: the same `on_connect` as graphql-transport-ws, a query, 100 subscription events in order, a
validation error, and a refused connection."""

import asyncio
from typing import Any

import pytest

from livegql.core import json
from tests.interop.conftest import ADMIT_TOKEN, REJECT_REASON, Door
from tests.interop.node_support import NODE_PROJECT, require_node, run_script
from tests.support.server import LiveServer

pytestmark = pytest.mark.node

SCRIPT = NODE_PROJECT / "legacy_client.mjs"
NODE_TIMEOUT = 30.0  # the script gives up after 20 s on its own; this also covers Node's start-up


@pytest.fixture(scope="module")
def node() -> str:
    return require_node(("subscriptions-transport-ws",), "subscriptions-transport-ws interop tests")


async def run(node: str, url: str, scenario: str, token: str) -> dict[str, Any]:
    async with run_script(node, SCRIPT, url, scenario, token) as process:
        assert process.stdin is not None
        process.stdin.close()
        async with asyncio.timeout(NODE_TIMEOUT):
            stdout, stderr = await process.communicate()
    lines = stdout.decode().splitlines()
    assert len(lines) == 1, f"expected one JSON line, got {stdout!r}; stderr: {stderr.decode()}"
    result: dict[str, Any] = json.loads(lines[0])
    assert result["ok"], result
    return result


async def test_the_reference_legacy_client_runs_a_query_a_subscription_and_sees_errors(
    node: str, guarded_server: LiveServer, door: Door
) -> None:
    result = await run(node, guarded_server.ws_url, "conformance", ADMIT_TOKEN)
    assert door.seen == [{"token": ADMIT_TOKEN}]  # on_connect ran, with the client's connectionParams
    assert result["query"] == {"values": [{"data": {"hello": "Hello, legacy!"}}], "completed": True}
    subscription = result["subscription"]
    assert subscription["completed"] is True
    assert [value["data"]["count"] for value in subscription["values"]] == list(range(1, 101))
    invalid = result["invalid"]
    assert invalid["completed"] is False
    assert "nope" in invalid["error"]["message"]


async def test_the_reference_legacy_client_is_refused_by_on_connect(
    node: str, guarded_server: LiveServer, door: Door
) -> None:
    result = await run(node, guarded_server.ws_url, "rejected", "wrong")
    assert result["connectionError"] == {"message": REJECT_REASON}
    assert door.seen == [{"token": "wrong"}]
