"""Every example of the README's Transports table, run as written against the chat demo on a real server.

Each example is the fenced block after a `<!-- tested: NAME -->` marker. Subscribing examples are started,
then (once their subscription reached the demo's broker) a message is sent, and the example must print it.
"""

import asyncio
import re
from asyncio.subprocess import PIPE, Process
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from livegql.core import json
from livegql.demo import create_app
from tests.interop.node_support import NODE_PROJECT, require_node
from tests.support.server import LiveServer, serve
from tests.support.waiting import until

README = Path(__file__).parent.parent / "README.md"
EXAMPLE = re.compile(r"<!-- tested: (?P<name>[\w-]+) -->\n```(?P<language>\w+)\n(?P<code>.*?)```", re.DOTALL)
README_PORT = "127.0.0.1:8000"
TOPIC = "chat:general"  # where the demo publishes the messages of its default room
TEXT = "hello from the README"
OUTPUT_TIMEOUT = 15.0  # Node's start-up and a client library's import come before the first line
# The npm packages each JavaScript example imports (installed by `npm ci --prefix tests/interop/node`).
PACKAGES = {
    "graphql-ws": ("graphql-ws", "ws"),
    "legacy": ("subscriptions-transport-ws", "ws"),
    "plain": ("ws",),
    "sse-single": ("graphql-sse",),
    "apollo": ("@apollo/client", "rxjs"),
}


def examples() -> dict[str, tuple[str, str]]:
    found = {match["name"]: (match["language"], match["code"]) for match in EXAMPLE.finditer(README.read_text())}
    assert found, "the README's Transports section lost its tested examples"
    return found


SUBSCRIBING = [name for name in examples() if name != "http"]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[LiveServer]:
    with serve(create_app(str(tmp_path / "demo.db"))) as live:
        yield live


async def start(name: str, server: LiveServer) -> Process:
    language, code = examples()[name]
    code = code.replace(README_PORT, f"127.0.0.1:{server.port}")
    if language == "bash":
        return await asyncio.create_subprocess_exec("bash", "-c", code, stdout=PIPE, stderr=PIPE)
    node = require_node(PACKAGES[name], f"README example {name!r}")
    return await asyncio.create_subprocess_exec(
        node, "--input-type=module", "-e", code, stdout=PIPE, stderr=PIPE, cwd=NODE_PROJECT
    )


async def read_until(process: Process, text: str) -> str:
    """What the example printed, up to the first line containing `text` (bounded)."""
    assert process.stdout is not None
    printed = ""
    async with asyncio.timeout(OUTPUT_TIMEOUT):
        while text not in printed:
            line = await process.stdout.readline()
            if not line:
                _, stderr = await process.communicate()
                raise AssertionError(f"the example exited without printing {text!r}: {printed}{stderr.decode()}")
            printed += line.decode()
    return printed


async def stop(process: Process) -> None:
    if process.returncode is None:
        process.kill()
    await process.wait()


async def test_the_http_example_answers_with_data(demo: LiveServer) -> None:
    process = await start("http", demo)
    async with asyncio.timeout(OUTPUT_TIMEOUT):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout) == {"data": {"rooms": [{"name": "general", "messageCount": 0}]}}


@pytest.mark.parametrize("name", SUBSCRIBING)
async def test_the_subscribing_example_prints_a_message_sent_after_it_started(name: str, demo: LiveServer) -> None:
    process = await start(name, demo)
    try:

        async def subscribed() -> bool:
            if process.returncode is not None:
                await read_until(process, TEXT)  # fails with what it printed
            return demo.app.pubsub.subscriber_count(TOPIC) >= 1

        await until(subscribed, limit=OUTPUT_TIMEOUT, what=f"the {name} example to subscribe")
        async with httpx.AsyncClient() as client:
            mutation = f'mutation {{ send(author: "readme", text: "{TEXT}") {{ id }} }}'
            sent = await client.post(demo.http_url, json={"query": mutation})
        assert sent.json()["data"]["send"]["id"]
        assert TEXT in await read_until(process, TEXT)
    finally:
        await stop(process)
