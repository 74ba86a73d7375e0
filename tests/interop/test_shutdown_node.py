"""The graphql-ws npm client across a graceful restart: `livegql serve` gets SIGTERM, its socket closes with 1012,
and the client, with its default retry policy, reconnects to the next server on the same port and subscribes
again by itself (node/shutdown_reconnect_client.mjs)."""

import asyncio
import signal
from asyncio.subprocess import Process
from typing import Any

import httpx
import pytest

from livegql.core import json
from tests.interop.node_support import NODE_PROJECT, require_node, run_script
from tests.support.processes import ServerProcess, serve_process
from tests.support.redis import free_port

pytestmark = [pytest.mark.node, pytest.mark.timeout(90)]

SCRIPT = NODE_PROJECT / "shutdown_reconnect_client.mjs"
TARGET = "tests.support.shutdown_app:app"
PUBLISH = 'mutation($seq: Int!) { publish(topic: "r", seq: $seq) }'
STEP = 30.0  # graphql-ws waits 1.3 to 4 s before its first retry, and up to 2 s more per failed attempt
SERVICE_RESTART = 1012


@pytest.fixture(scope="module")
def node() -> str:
    return require_node(("graphql-ws", "ws"), "graphql-ws restart test")


async def _line(process: Process) -> dict[str, Any]:
    """The script's next JSON line (bounded)."""
    assert process.stdout is not None
    async with asyncio.timeout(STEP):
        raw = await process.stdout.readline()
    assert raw, "the script ended early"
    line: dict[str, Any] = json.loads(raw)
    return line


async def _live_again(client: Process) -> int:
    """The connection number of the next acknowledgement; retries refused meanwhile only print their close."""
    while "live" not in (line := await _line(client)):
        assert set(line) == {"closed"}, line
    live: int = line["live"]
    return live


async def _publish(server: ServerProcess, seq: int) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(server.http_url, json={"query": PUBLISH, "variables": {"seq": seq}})
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json(), answer.text


async def test_graphql_ws_reconnects_to_the_next_server_after_1012(node: str) -> None:
    port = str(free_port())
    with serve_process(TARGET, "--port", port, "--grace-period", "3") as first:
        async with run_script(node, SCRIPT, first.ws_url) as client:
            assert await _line(client) == {"live": 1}
            await _publish(first, 0)
            assert await _line(client) == {"event": 0, "connection": 1}
            first.process.send_signal(signal.SIGTERM)
            assert await _line(client) == {"closed": SERVICE_RESTART}
            await asyncio.to_thread(first.process.wait, 10)
            with serve_process(TARGET, "--port", port) as second:
                assert await _live_again(client) == 2
                await _publish(second, 1)
                result = await _line(client)
    assert result["ok"] is True, result
    assert result["closes"][0] == SERVICE_RESTART
    assert result["events"][0] == {"seq": 0, "connection": 1}
    assert result["events"][-1]["seq"] == 1
