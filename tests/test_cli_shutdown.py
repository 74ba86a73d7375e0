"""SIGTERM to `livegql serve`: every transport's client gets every event accepted before it, then the code that
tells it to reconnect; a query in flight finishes; new connections are refused; the process exits within the
grace period. And where `serve` finds the LiveGQL apps to drain."""

import asyncio
import signal
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount

from livegql import LiveGQL, PubSub
from livegql.draining import find_apps
from tests.support.processes import ServerProcess, serve_process
from tests.support.redis import delete_keys, redis_url_or_skip, unique_prefix
from tests.support.streams import MULTIPART, MultipartReader, SSEReader, open_stream, stream_client
from tests.support.wsclient import RawPeer, connect

TARGET = "tests.support.shutdown_app:app"
GRACE = 5.0
SLOW = 2.0  # seconds the in-flight query takes: the drain must wait for it
EVENTS = 10
WATCH = "subscription {name}($t: String!) {{ events(topic: $t) {{ seq }} }}"
PUBLISH = 'mutation($seq: Int!) { publish(topic: "x", seq: $seq) }'


def _subscribe(name: str) -> dict[str, Any]:
    """Subscribe to topic x; each client names its operation so that each has a shared stream of its own (a
    client joining a stream that is already live is acknowledged at once, which is another test's concern)."""
    return {"query": WATCH.format(name=name), "variables": {"t": "x"}, "extensions": {"acknowledge": True}}


SERVICE_RESTART = 1012
RECEIVE = 10.0

pytestmark = pytest.mark.timeout(60)


async def _websocket(stack: AsyncExitStack, server: ServerProcess, subprotocol: str, start: str) -> RawPeer:
    """A subscriber whose subscription is live (acknowledged) on `server`."""
    peer = await stack.enter_async_context(connect(server.ws_url, (subprotocol,)))
    await peer.send({"type": "connection_init"})
    assert (await peer.receive())["type"] == "connection_ack"
    await peer.send({"id": "s", "type": start, "payload": _subscribe(start)})
    assert (await peer.receive())["payload"]["extensions"]["subscribed"] is True
    return peer


async def _start_slow_query(peer: RawPeer) -> None:
    """A query in flight for SLOW seconds: the ping's pong proves the server read (and started) it."""
    await peer.send({"id": "q", "type": "subscribe", "payload": {"query": f"{{ slow(seconds: {SLOW}) }}"}})
    await peer.send({"type": "ping"})
    assert (await peer.receive())["type"] == "pong"


def _slow_result(messages: list[Any]) -> bool:
    """Whether the slow query's result and completion arrived."""
    return [m for m in messages if m.get("id") == "q"] == [
        {"id": "q", "type": "next", "payload": {"data": {"slow": "done"}}},
        {"id": "q", "type": "complete"},
    ]


async def _until_close(peer: RawPeer) -> tuple[list[Any], int | None]:
    """Every message until the server closes, and its close code."""
    messages: list[Any] = []
    while True:
        try:
            messages.append(await peer.receive(RECEIVE))
        except Exception:
            return messages, (await peer.closed())[0]


def _seqs(messages: list[Any], id: str = "s") -> list[int]:
    return [m["payload"]["data"]["events"]["seq"] for m in messages if m.get("id") == id and "payload" in m]


async def _sse_rest(reader: SSEReader) -> list[int]:
    seqs = [(await reader.event(RECEIVE)).json()["data"]["events"]["seq"] for _ in range(EVENTS)]
    await reader.end(RECEIVE)
    return seqs


async def _multipart_rest(reader: MultipartReader) -> tuple[list[int], Any]:
    seqs = [(await reader.payload(RECEIVE))["payload"]["data"]["events"]["seq"] for _ in range(EVENTS)]
    fatal = await reader.payload(RECEIVE)
    await reader.end(RECEIVE)
    return seqs, fatal


async def _late_connection_refused(server: ServerProcess) -> bool:
    """A connection made after SIGTERM: refused by the closed listener, or closed 1012 by the draining app."""
    try:
        async with connect(server.ws_url) as late:
            return (await late.closed(RECEIVE))[0] == SERVICE_RESTART
    except OSError:
        return True


async def test_sigterm_drains_every_transport_and_exits_within_the_grace_period() -> None:
    with serve_process(TARGET, "--grace-period", str(GRACE)) as server:
        async with AsyncExitStack() as stack, stream_client() as http:
            modern = await _websocket(stack, server, "graphql-transport-ws", "subscribe")
            legacy = await _websocket(stack, server, "graphql-ws", "start")
            sse = SSEReader(await stack.enter_async_context(open_stream(http, server.http_url, _subscribe("SSE"))))
            assert (await sse.event()).json()["extensions"]["subscribed"] is True
            multipart_response = open_stream(http, server.http_url, _subscribe("Multipart"), accept=MULTIPART)
            multipart = MultipartReader(await stack.enter_async_context(multipart_response))
            assert (await multipart.payload())["payload"]["extensions"]["subscribed"] is True
            await _start_slow_query(modern)
            for seq in range(EVENTS):
                answer = await http.post(server.http_url, json={"query": PUBLISH, "variables": {"seq": seq}})
                assert answer.status_code == 200, answer.text
                assert "errors" not in answer.json(), answer.text

            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            refused = await _late_connection_refused(server)
            (
                (modern_messages, modern_code),
                (legacy_messages, legacy_code),
                sse_seqs,
                (parts, fatal),
            ) = await asyncio.gather(
                _until_close(modern), _until_close(legacy), _sse_rest(sse), _multipart_rest(multipart)
            )
            exit_code = await asyncio.to_thread(server.process.wait, GRACE + 5)
            took = time.monotonic() - signalled

    everything = list(range(EVENTS))
    assert refused
    assert (_seqs(modern_messages), modern_code) == (everything, SERVICE_RESTART)
    assert _slow_result(modern_messages)
    assert (_seqs(legacy_messages), legacy_code) == (everything, SERVICE_RESTART)
    assert sse_seqs == everything
    assert parts == everything
    assert fatal == {"payload": None, "errors": [{"message": "server shutting down"}]}
    assert exit_code == -signal.SIGTERM  # uvicorn re-raises the signal once shut down, as a process should
    assert SLOW <= took < GRACE + 2, took


async def test_the_grace_period_bounds_the_exit() -> None:
    """A query that would run for a minute is stopped once the grace period is over; its socket closes 1012."""
    with serve_process(TARGET, "--grace-period", "1") as server:
        async with connect(server.ws_url) as peer:
            await peer.init()
            await peer.subscribe("q", "{ slow(seconds: 60) }")
            await peer.send({"type": "ping"})
            assert (await peer.receive())["type"] == "pong"
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            messages, code = await _until_close(peer)
            await asyncio.to_thread(server.process.wait, 10)
            took = time.monotonic() - signalled
    assert (messages, code) == ([], SERVICE_RESTART)
    assert took < 1 + 2, took


@pytest.fixture
def broker() -> Iterator[str]:
    """The machine's Redis (skipped when absent) under a key prefix of this test's own, deleted afterwards."""
    url = redis_url_or_skip()
    prefix = unique_prefix()
    try:
        yield f"{url}{'&' if '?' in url else '?'}{urlencode({'key_prefix': prefix})}"
    finally:
        delete_keys(url, prefix)


async def test_workers_drain_and_what_was_accepted_stays_resumable(broker: str) -> None:
    """`--workers 2`: SIGTERM drains each worker; events published while no server runs are replayed to a
    client resuming (`resumeAfter`) from the last position it saw, on the next server."""
    with serve_process(TARGET, "--workers", "2", "--broker", broker, "--grace-period", str(GRACE)) as server:
        async with AsyncExitStack() as stack, stream_client() as http:
            peers = [await _websocket(stack, server, "graphql-transport-ws", "subscribe") for _ in range(4)]
            for peer in peers:  # whichever worker each landed on has a query in flight
                await _start_slow_query(peer)
            for seq in range(EVENTS):
                answer = await http.post(server.http_url, json={"query": PUBLISH, "variables": {"seq": seq}})
                assert answer.status_code == 200, answer.text
                assert "errors" not in answer.json(), answer.text
            server.process.send_signal(signal.SIGTERM)
            ends = await asyncio.gather(*(_until_close(peer) for peer in peers))
            await asyncio.to_thread(server.process.wait, GRACE + 5)
    assert [(_seqs(messages), code) for messages, code in ends] == [(list(range(EVENTS)), SERVICE_RESTART)] * 4
    assert all(_slow_result(messages) for messages, _ in ends)
    last = [m for m in ends[0][0] if m.get("id") == "s"][-1]["payload"]["extensions"]["position"]

    pubsub = PubSub.from_url(broker)  # the app is down: events published meanwhile wait in Redis
    for seq in range(EVENTS, EVENTS + 3):
        await pubsub.publish("x", {"seq": seq})
    await pubsub.close()
    with serve_process(TARGET, "--broker", broker) as restarted:
        async with connect(restarted.ws_url) as peer:
            await peer.init()
            resume = {"query": WATCH.format(name="Again"), "variables": {"t": "x"}, "extensions": {"resumeAfter": last}}
            await peer.send({"id": "s", "type": "subscribe", "payload": resume})
            replayed = [await peer.receive(RECEIVE) for _ in range(3)]
    assert _seqs(replayed) == [EVENTS, EVENTS + 1, EVENTS + 2]


def test_serve_finds_the_livegql_apps_behind_middleware_and_mounts() -> None:
    inner = LiveGQL("type Query { a: Int }")
    other = LiveGQL("type Query { b: Int }")
    outer = CORSMiddleware(Starlette(routes=[Mount("/x", app=inner), Mount("/y", app=other)]), allow_origins=["*"])
    assert find_apps(outer) == [inner, other]
    assert find_apps(inner) == [inner]
    assert find_apps(Starlette()) == []
