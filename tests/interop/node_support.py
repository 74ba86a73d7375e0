"""Finding Node.js and the interop project's npm packages: skip without them, except in CI, where that fails.
Also what the npm-client scripts' tests share: reading a script's result line, the release check of a `cancel`
scenario, a listener on the server's PubSub, what `on_connect` must have seen, and the messages of an error."""

import asyncio
import os
import shutil
from asyncio.subprocess import PIPE, Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from livegql.broker.base import Subscription
from livegql.core import json
from tests.interop.conftest import ADMIT_AUTHORIZATION, ADMIT_TOKEN, Door
from tests.support.server import LiveServer, subscribers
from tests.support.waiting import until

NODE_PROJECT = Path(__file__).parent / "node"
SCRIPT_TIMEOUT = 30.0  # the scripts give up after 20 s on their own; this also covers Node's start-up


def require_node(packages: tuple[str, ...], what: str) -> str:
    """The `node` executable, once `packages` are installed in tests/interop/node; `what` names the tests."""
    executable = shutil.which("node")
    missing = []
    if executable is None:
        missing.append("`node` is not on PATH")
    absent = [name for name in packages if not (NODE_PROJECT / "node_modules" / name).is_dir()]
    if absent:
        missing.append(
            f"tests/interop/node/node_modules lacks {', '.join(absent)} (run `npm ci --prefix tests/interop/node`)"
        )
    if missing or executable is None:
        reason = "; ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the {what}, but {reason}")
        pytest.skip(reason)
    return executable


@asynccontextmanager
async def run_script(node: str, script: Path, *args: str) -> AsyncIterator[Process]:
    """Start a Node script of the interop project with piped stdio; killed on exit if it is still running."""
    process = await asyncio.create_subprocess_exec(
        node, str(script), *args, stdin=PIPE, stdout=PIPE, stderr=PIPE, cwd=NODE_PROJECT
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def script_output(process: Process, limit: float = SCRIPT_TIMEOUT) -> tuple[list[str], str]:
    """Close the script's stdin and wait (bounded) for it to exit: its stdout lines and a report of its exit."""
    if process.stdin is not None:
        process.stdin.close()  # communicate() without input leaves it open
    try:
        async with asyncio.timeout(limit):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        raise AssertionError(f"node did not finish within {limit}s") from None
    report = f"node exited {process.returncode}\nstdout: {stdout.decode()}\nstderr: {stderr.decode()}"
    return stdout.decode().splitlines(), report


async def script_result(process: Process, limit: float = SCRIPT_TIMEOUT) -> dict[str, Any]:
    """Close the script's stdin, wait (bounded) for its one JSON line and return it; fail loudly on a non-zero
    exit, anything but one line, or `"ok": false`, showing what the script printed."""
    lines, report = await script_output(process, limit)
    assert process.returncode == 0, report
    assert len(lines) == 1, report
    result: dict[str, Any] = json.loads(lines[0])
    assert result["ok"] is True, report
    return result


async def release_check(server: LiveServer, process: Process, topic: str, limit: float = 15.0) -> dict[str, Any]:
    """Drive a script's `cancel` scenario: once its subscriber of `topic` reaches the server's PubSub, publish
    "first" (the script unsubscribes on that event, then holds its connection until its stdin closes), wait
    (bounded) for the server to drop the subscriber, then let the script finish and return its result."""

    async def registered() -> bool:
        if process.returncode is not None:
            await script_result(process)  # fails with what the script printed
            raise AssertionError("node exited before its subscription reached the server")
        return await subscribers(server, topic) == 1

    async def released() -> bool:
        return await subscribers(server, topic) == 0

    # Generous: Node's start-up and the client library's import come first.
    await until(registered, limit=limit, what=f"the script's subscription to {topic!r} to reach the PubSub")
    await server.acall(server.app.pubsub.publish(topic, "first"))
    try:
        await until(released, what=f"the server to release the subscriber of {topic!r}")
    except AssertionError as timeout:
        # Closing stdin ends the script's wait, for the first event too: its report says which one it was in.
        _, report = await script_output(process)
        raise AssertionError(f"{timeout} (did the client get the event, and unsubscribe?)\n{report}") from None
    return await script_result(process)


async def listen(server: LiveServer, topic: str) -> Subscription:
    """A subscriber of `topic` on the server's PubSub (where the publish mutation's resolver publishes)."""

    async def subscribe() -> Subscription:
        return server.app.pubsub.subscribe(topic)

    return await server.acall(subscribe())


async def next_published(server: LiveServer, subscription: Subscription) -> Any:
    """The next payload `subscription` receives (bounded by `acall`'s limit), then release it."""

    async def receive() -> Any:
        try:
            return await anext(subscription)
        finally:
            await subscription.aclose()

    return await server.acall(receive())


def assert_on_connect_admitted(door: Door, scope_type: str) -> None:
    """`on_connect` ran, and only for this client: with the token in the params over a WebSocket, and with the
    bearer Authorization header and empty params on every HTTP request."""
    assert door.visits, "on_connect never ran"
    for visit in door.visits:
        assert visit.scope_type == scope_type, door.visits
        if scope_type == "websocket":
            assert visit.params == {"token": ADMIT_TOKEN}, door.visits
        else:
            assert (visit.params, visit.authorization) == ({}, ADMIT_AUTHORIZATION), door.visits


def error_messages(error: dict[str, Any]) -> list[str]:
    """Every message in a script's description of an error: its own, its GraphQL errors', and those of a GraphQL
    error body the server answered with."""
    found = [error["message"]] if isinstance(error.get("message"), str) else []
    errors = list(error.get("graphqlErrors") or [])
    body = error.get("body")
    if isinstance(body, dict):
        errors.extend(body.get("errors") or [])
    found.extend(each["message"] for each in errors if isinstance(each, dict) and "message" in each)
    return found


def url_for(server: LiveServer, transport: str) -> str:
    """Where a script of a library with a WebSocket and an HTTP transport connects ("ws" or anything else)."""
    return server.ws_url if transport == "ws" else server.http_url


def scope_of(transport: str) -> str:
    """The ASGI scope type `on_connect` saw for that transport."""
    return "websocket" if transport == "ws" else "http"


async def check_conformance_results(
    result: dict[str, Any], server: LiveServer, listener: Subscription, name: str
) -> None:
    """What every library's conformance scenario must show (its validation error is checked by each test, as
    libraries surface it differently): the query and the mutation each one result, the mutation's resolver
    really ran, the 100 events in order, then completion."""
    assert result["query"] == {"values": [{"data": {"hello": f"Hello, {name}!"}}], "completed": True}, result
    assert result["mutation"] == {"values": [{"data": {"publish": True}}], "completed": True}, result
    # The resolver really ran: what it published reached the server's PubSub.
    assert await next_published(server, listener) == "x"
    subscription = result["subscription"]
    assert subscription == {"values": [{"data": {"count": n}} for n in range(1, 101)], "completed": True}, result
