"""Graceful shutdown (`LiveGQL.shutdown`) over real sockets: every event accepted before it is delivered, then
each WebSocket closes 1012 and each stream ends the way that makes its client reconnect; running queries finish;
new sessions are refused while it drains."""

import asyncio
import re

import pytest

from livegql import PubSub
from tests.support.server import LiveServer, serve
from tests.support.streams import (
    MULTIPART,
    MultipartReader,
    SSEReader,
    open_stream,
    stream_client,
    subscribed,
)
from tests.support.waiting import until
from tests.support.wsclient import RawPeer, connect
from tests.transport.shutdown_helpers import WATCH, Gate, is_draining, make_app, publish_then_drain, start_drain

SERVICE_RESTART = 1012
EVENTS = 300
WINDOW = (0.2, 0.4)  # shutdown_retry_window in the tests: told apart from any default
_RETRY = re.compile(rb"\nretry: (\d+)\n\n")


async def _no_sessions(server: LiveServer) -> bool:
    async def count() -> int:
        return len(server.app.runtime.sessions)

    return await server.acall(count()) == 0


async def _texts_until_close(peer: RawPeer, next_type: str) -> tuple[list[str], int | None]:
    """Every event's text until the server closes, and the close code."""
    texts: list[str] = []
    while True:
        try:
            message = await peer.receive()
        except Exception:
            code, _ = await peer.closed()
            return texts, code
        assert message["type"] == next_type, message
        texts.append(message["payload"]["data"]["topic"])


@pytest.mark.parametrize(
    ("subprotocol", "start", "next_type"),
    [("graphql-transport-ws", "subscribe", "next"), ("graphql-ws", "start", "data")],
)
async def test_websocket_gets_every_queued_event_then_1012(subprotocol: str, start: str, next_type: str) -> None:
    with serve(make_app(Gate())) as server:
        async with connect(server.ws_url, (subprotocol,)) as peer:
            await peer.send({"type": "connection_init"})
            assert (await peer.receive())["type"] == "connection_ack"
            payload = {"query": WATCH, "variables": {"name": "t"}}
            await peer.send({"id": "1", "type": start, "payload": payload})
            await subscribed(server, "t", 1)
            reading = asyncio.ensure_future(_texts_until_close(peer, next_type))
            report = await publish_then_drain(server, "t", EVENTS)
            texts, code = await reading
    assert texts == [str(index) for index in range(EVENTS)]
    assert code == SERVICE_RESTART
    assert (report.sessions, report.ended, report.cut) == (1, 1, 0)


async def test_running_query_finishes_while_new_sessions_are_refused() -> None:
    gate = Gate()
    with serve(make_app(gate, shutdown_retry_window=WINDOW)) as server:
        async with connect(server.ws_url) as peer:
            await peer.init()
            await peer.subscribe("q", "{ slow }")
            await gate.until_started()
            drained = start_drain(server)
            await until(lambda: is_draining(server), what="the drain to begin")

            async with connect(server.ws_url) as late:
                assert (await late.closed())[0] == SERVICE_RESTART
            async with stream_client() as http:
                refused = await http.post(
                    server.http_url,
                    json={"query": WATCH, "variables": {"name": "t"}},
                    headers={"accept": "text/event-stream"},
                )
                assert refused.status_code == 503
                assert refused.headers["retry-after"] == "1"  # a delay in WINDOW, in whole seconds, at least 1
                reservation = await http.put(server.http_url, headers={"accept": "text/plain"})
                assert reservation.status_code == 503
                # A plain query still runs: it ends by itself, and its client is not told to reconnect.
                answered = await http.post(
                    server.http_url, json={"query": "{ hello }"}, headers={"accept": "application/json"}
                )
                assert answered.json() == {"data": {"hello": "hi"}}

            # An operation started during the drain is not run: the client sends it again after reconnecting.
            await peer.subscribe("late", "{ hello }")
            assert not drained.done()  # still waiting for the query
            gate.open()
            assert await peer.receive() == {"id": "q", "type": "next", "payload": {"data": {"slow": "done"}}}
            assert await peer.receive() == {"id": "q", "type": "complete"}
            assert (await peer.closed())[0] == SERVICE_RESTART
            report = await drained
    assert (report.ended, report.cut) == (1, 0)


async def test_sse_stream_ends_with_a_jittered_retry_and_resumes_on_the_next_server() -> None:
    shared = PubSub()  # stands for Redis: the history outlives the process that drains
    payload = {"query": WATCH, "variables": {"name": "t"}}
    with serve(make_app(Gate(), shared, shutdown_retry_window=WINDOW)) as old:
        async with stream_client() as http, open_stream(http, old.http_url, payload) as response:
            reader = SSEReader(response)
            await subscribed(old, "t", 1)
            draining = asyncio.ensure_future(publish_then_drain(old, "t", 3))
            seen = [await reader.event() for _ in range(3)]
            await reader.end()  # no `complete`: the client reconnects
            await draining
    assert [event.json()["data"]["topic"] for event in seen] == ["0", "1", "2"]
    retry = _RETRY.search(reader.raw)
    assert retry is not None, reader.raw[-200:]
    assert WINDOW[0] * 1000 <= int(retry.group(1)) <= WINDOW[1] * 1000
    last = seen[-1].id
    assert last is not None
    await shared.publish("t", "published while restarting")
    with serve(make_app(Gate(), shared)) as new:
        resume = {"last-event-id": last}
        async with stream_client() as http, open_stream(http, new.http_url, payload, headers=resume) as response:
            resumed = await SSEReader(response).event()
    assert resumed.json()["data"]["topic"] == "published while restarting"
    await shared.close()


async def test_multipart_stream_ends_with_its_fatal_error_part() -> None:
    payload = {"query": WATCH, "variables": {"name": "t"}}
    with serve(make_app(Gate())) as server:
        async with stream_client() as http, open_stream(http, server.http_url, payload, accept=MULTIPART) as response:
            reader = MultipartReader(response)
            await subscribed(server, "t", 1)
            draining = asyncio.ensure_future(publish_then_drain(server, "t", 2))
            events = [await reader.payload() for _ in range(2)]
            last = await reader.part()
            await reader.end()
            await draining
    assert [event["payload"]["data"]["topic"] for event in events] == ["0", "1"]
    assert last is not None
    assert last.body == {"payload": None, "errors": [{"message": "server shutting down"}]}


async def test_single_connection_stream_ends_without_complete() -> None:
    with serve(make_app(Gate(), shutdown_retry_window=WINDOW)) as server:
        async with stream_client() as http:
            token = (await http.put(server.http_url, headers={"accept": "text/plain"})).text
            headers = {"x-graphql-event-stream-token": token}
            async with open_stream(http, server.http_url, method="GET", headers=headers) as response:
                reader = SSEReader(response)
                await reader.comment()
                body = {"query": WATCH, "variables": {"name": "t"}, "extensions": {"operationId": "a"}}
                started = await http.post(server.http_url, json=body, headers={**headers, "accept": "application/json"})
                assert started.status_code == 202
                await subscribed(server, "t", 1)
                draining = asyncio.ensure_future(publish_then_drain(server, "t", 2))
                events = [await reader.event() for _ in range(2)]
                await reader.end()
                await draining
    assert [event.json()["payload"]["data"]["topic"] for event in events] == ["0", "1"]
    assert _RETRY.search(reader.raw) is not None


async def test_a_client_that_does_not_read_is_cut_at_the_deadline() -> None:
    # A send queue far larger than the socket's buffers, and a close_timeout beyond the grace period: only the
    # drain's own deadline can end this stream. (uvicorn pushes back on HTTP bodies; its WebSockets buffer.)
    app = make_app(Gate(), send_queue_size=100_000, close_timeout=60)
    payload = {"query": WATCH, "variables": {"name": "t"}}
    with serve(app) as server:
        async with stream_client() as http, open_stream(http, server.http_url, payload):
            await subscribed(server, "t", 1)  # the stream is open, and the client reads nothing more
            started = asyncio.get_running_loop().time()
            report = await publish_then_drain(server, "t", 2000, grace=1.0, size=16_384)
            took = asyncio.get_running_loop().time() - started
            await until(lambda: _no_sessions(server), limit=2.0, what="the cut stream to end")
    assert (report.sessions, report.cut) == (1, 1)
    assert report.seconds < 1.5
    assert took < 5.0


def test_settings_validate_the_shutdown_fields() -> None:
    with pytest.raises(ValueError, match="shutdown_grace_period"):
        make_app(Gate(), shutdown_grace_period=0)
    with pytest.raises(ValueError, match="shutdown_retry_window"):
        make_app(Gate(), shutdown_retry_window=(2.0, 1.0))
