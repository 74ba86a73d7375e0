"""GraphQL over Server-Sent Events, distinct connections mode, end to end on a real uvicorn socket: one streaming
response per operation, `on_connect` and the request limits in front of it, heartbeats, the client leaving,
resume from Last-Event-ID, and a slow consumer."""

import asyncio
import select
import socket
from collections.abc import AsyncIterator, Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from livegql.core import json
from tests.support.live_helpers import COUNTER, Store, update
from tests.support.live_helpers import make_app as make_live_app
from tests.support.server import LiveServer, serve
from tests.support.streams import (
    EVENT_STREAM,
    Comment,
    Door,
    SSEEvent,
    SSEParser,
    SSEReader,
    make_app,
    open_stream,
    publish,
    stream_client,
    subscribed,
    subscribers,
)
from tests.support.waiting import until
from tests.transport.http_helpers import assert_error_response

BODY_LIMIT = 2048
QUERY_LIMIT = 300
WATCH = "subscription($t: String!) { topic(name: $t) }"
PUBLISH = 'mutation { publish(topic: "side-effect", text: "ran") }'


@pytest.fixture(scope="module")
def door() -> Door:
    return Door()


@pytest.fixture(scope="module")
def guarded(door: Door) -> Iterator[LiveServer]:
    with serve(make_app(door, max_body_bytes=BODY_LIMIT, max_query_bytes=QUERY_LIMIT)) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with stream_client() as client:
        yield client


async def next_data(reader: SSEReader) -> Any:
    event = await reader.event()
    assert event.event == "next", event
    return event.json()


async def completes(reader: SSEReader) -> None:
    """The `complete` event (with empty data), then the end of the body."""
    event = await reader.event()
    assert (event.event, event.data) == ("complete", ""), event
    await reader.end()


# --- single results ---------------------------------------------------------------------------------------------


async def test_a_query_is_one_next_then_complete_with_streaming_headers(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    async with open_stream(http, guarded.http_url, {"query": "{ hello }"}) as response:
        assert response.status_code == HTTPStatus.OK
        headers = response.headers
        assert headers["content-type"] == "text/event-stream; charset=utf-8"
        assert "no-cache" in headers["cache-control"]
        assert headers["x-accel-buffering"] == "no"
        assert "content-length" not in headers
        reader = SSEReader(response)
        assert isinstance(await reader.item(), Comment)  # the opening flush comes before any result
        assert await next_data(reader) == {"data": {"hello": "Hello, world!"}}
        await completes(reader)


async def test_a_query_over_get_streams(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    params = {"query": "query($n: String) { hello(name: $n) }", "variables": json.dumps({"n": "get"})}
    async with open_stream(http, guarded.http_url, method="GET", params=params) as response:
        assert response.status_code == HTTPStatus.OK
        reader = SSEReader(response)
        assert await next_data(reader) == {"data": {"hello": "Hello, get!"}}
        await completes(reader)


async def test_a_mutation_over_post_runs_once(guarded: LiveServer, door: Door, http: httpx.AsyncClient) -> None:
    before = len(door.ran)
    async with open_stream(http, guarded.http_url, {"query": PUBLISH}) as response:
        reader = SSEReader(response)
        assert await next_data(reader) == {"data": {"publish": True}}
        await completes(reader)
    assert door.ran[before:] == ["ran"]


async def test_a_mutation_over_get_is_405_and_not_run(guarded: LiveServer, door: Door, http: httpx.AsyncClient) -> None:
    before = len(door.ran)
    response = await http.get(guarded.http_url, params={"query": PUBLISH}, headers={"accept": EVENT_STREAM})
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.headers["allow"] == "POST"
    assert "GET" in response.json()["errors"][0]["message"]
    assert door.ran[before:] == []


async def test_a_validation_error_arrives_in_the_stream(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    async with open_stream(http, guarded.http_url, {"query": "{ nope }"}) as response:
        assert response.status_code == HTTPStatus.OK
        assert response.headers["content-type"].startswith(EVENT_STREAM)
        reader = SSEReader(response)
        result = await next_data(reader)
        assert set(result) == {"errors"}
        assert "nope" in result["errors"][0]["message"]
        await completes(reader)


async def test_a_subscription_streams_a_hundred_events_in_order_then_completes(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    async with open_stream(http, guarded.http_url, {"query": "subscription { count(to: 100) }"}) as response:
        reader = SSEReader(response)
        values = [(await next_data(reader))["data"]["count"] for _ in range(100)]
        await completes(reader)
    assert values == list(range(1, 101))


async def test_an_error_of_the_source_is_a_last_next_then_complete(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    async with open_stream(http, guarded.http_url, {"query": "subscription { failing }"}) as response:
        reader = SSEReader(response)
        assert await next_data(reader) == {"data": {"failing": 1}}
        result = await next_data(reader)
        assert set(result) == {"errors"}
        assert result["errors"][0]["message"]
        await completes(reader)


# --- refused before anything runs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", HTTPStatus.BAD_REQUEST),
        (b'{"query": "{ hello }"}', "text/plain", HTTPStatus.UNSUPPORTED_MEDIA_TYPE),
        (json.dumps_bytes({"query": "{ hello }", "variables": {"pad": "x" * BODY_LIMIT}}), "application/json", 413),
        (json.dumps_bytes({"query": "{ hello }" + " " * QUERY_LIMIT}), "application/json", 413),
    ],
    ids=["bad-json", "wrong-content-type", "body-too-large", "query-too-large"],
)
async def test_a_malformed_or_oversized_request_gets_a_status_not_a_stream(
    guarded: LiveServer, http: httpx.AsyncClient, content: bytes, content_type: str, status: HTTPStatus
) -> None:
    # The preflight header gets text/plain past CSRF prevention (tests/security) to the content-type check.
    headers = {"accept": EVENT_STREAM, "content-type": content_type, "graphql-require-preflight": "1"}
    response = await http.post(guarded.http_url, content=content, headers=headers)
    assert_error_response(response, status)


async def test_on_connect_refuses_with_403_and_its_reason_and_nothing_runs(
    guarded: LiveServer, door: Door, http: httpx.AsyncClient
) -> None:
    before = len(door.ran)
    headers = {"accept": EVENT_STREAM, "content-type": "application/json", "authorization": "Bearer no"}
    response = await http.post(guarded.http_url, content=json.dumps_bytes({"query": PUBLISH}), headers=headers)
    assert assert_error_response(response, HTTPStatus.FORBIDDEN) == "go away"
    assert door.ran[before:] == []


async def test_on_connect_sees_the_request_headers_and_its_context_reaches_resolvers(
    guarded: LiveServer, door: Door, http: httpx.AsyncClient
) -> None:
    headers = {"authorization": "Bearer alice", "x-probe": "sse-42"}
    async with open_stream(http, guarded.http_url, {"query": "{ whoami }"}, headers=headers) as response:
        reader = SSEReader(response)
        assert await next_data(reader) == {"data": {"whoami": "alice"}}
        await completes(reader)
    seen = [request for request in door.seen if request.get("x-probe") == "sse-42"]
    assert len(seen) == 1
    assert seen[0]["accept"] == EVENT_STREAM


async def test_an_event_stream_only_client_is_406_when_sse_is_off(http: httpx.AsyncClient) -> None:
    with serve(make_app(Door(), sse_protocol=False)) as server:
        headers = {"accept": EVENT_STREAM, "content-type": "application/json"}
        response = await http.post(server.http_url, content=json.dumps_bytes({"query": "{ hello }"}), headers=headers)
        assert_error_response(response, HTTPStatus.NOT_ACCEPTABLE)


# --- long-lived streams -----------------------------------------------------------------------------------------


async def test_heartbeat_comments_flow_while_nothing_happens(http: httpx.AsyncClient) -> None:
    with serve(make_app(Door(), keepalive_interval=0.05)) as server:
        payload = {"query": WATCH, "variables": {"t": "quiet"}}
        async with open_stream(http, server.http_url, payload) as response:
            reader = SSEReader(response)
            for _ in range(4):  # the opening comment, then heartbeats
                await reader.comment(limit=2.0)
            assert await subscribers(server, "quiet") == 1  # still subscribed: the heartbeats ended nothing


async def test_the_client_leaving_releases_the_subscription(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    async with open_stream(http, guarded.http_url, {"query": WATCH, "variables": {"t": "leaving"}}) as response:
        reader = SSEReader(response)
        await subscribed(guarded, "leaving", 1)
        await publish(guarded, "leaving", "one")
        assert (await next_data(reader))["data"] == {"topic": "one"}
    await subscribed(guarded, "leaving", 0)


async def test_ids_carry_positions_and_last_event_id_resumes_exactly_after_them(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    payload = {"query": WATCH, "variables": {"t": "feed"}, "extensions": {"acknowledge": True}}
    async with open_stream(http, guarded.http_url, payload) as response:
        reader = SSEReader(response)
        acknowledgement = await reader.event()
        assert acknowledgement.json()["extensions"]["subscribed"] is True
        assert acknowledgement.id == acknowledgement.json()["extensions"]["position"]
        published = [await publish(guarded, "feed", text) for text in ("1", "2")]
        seen = [await reader.event() for _ in published]
    assert [event.json()["data"]["topic"] for event in seen] == ["1", "2"]
    assert [event.id for event in seen] == published
    assert [event.json()["extensions"]["position"] for event in seen] == published
    await subscribed(guarded, "feed", 0)

    missed = [await publish(guarded, "feed", text) for text in ("3", "4", "5")]  # while the client is away
    # As EventSource reconnects: the same GET, with the last id it saw.
    params = {"query": WATCH, "variables": json.dumps({"t": "feed"})}
    headers = {"last-event-id": seen[-1].id or ""}
    async with open_stream(http, guarded.http_url, method="GET", params=params, headers=headers) as response:
        reader = SSEReader(response)
        replayed = [await reader.event() for _ in missed]
        assert [(event.json()["data"]["topic"], event.id) for event in replayed] == list(
            zip("345", missed, strict=True)
        )
        now = await publish(guarded, "feed", "6")
        event = await reader.event()
        assert (event.json()["data"]["topic"], event.id) == ("6", now)


async def test_a_last_event_id_that_is_no_position_is_an_error_in_the_stream(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    params = {"query": WATCH, "variables": json.dumps({"t": "feed-bad-id"})}
    headers = {"last-event-id": "not-a-position"}
    async with open_stream(http, guarded.http_url, method="GET", params=params, headers=headers) as response:
        reader = SSEReader(response)
        result = await next_data(reader)
        assert [error["extensions"]["code"] for error in result["errors"]] == ["INVALID_POSITION"]
        await completes(reader)


# --- slow consumer ----------------------------------------------------------------------------------------------

FLOOD_TEXT = "x" * 64 * 1024
FLOOD_LIMIT = 300  # 19 MiB in events of 64 KiB: several times what loopback buffers hold for a stalled reader


def stalled_stream(server: LiveServer, topic: str) -> socket.socket:
    """An SSE request on a raw socket with a tiny receive buffer, whose reader reads the response head and
    then nothing more."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5.0)
    sock.connect(("127.0.0.1", server.port))
    body = json.dumps_bytes({"query": WATCH, "variables": {"t": topic}})
    head = (
        f"POST {server.app.settings.path} HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: {EVENT_STREAM}\r\n"
        f"authorization: Bearer slow\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(1024)
        assert chunk, "the server closed before answering"
        received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received
    return sock


def reset_by_the_server(sock: socket.socket) -> bool:
    """Whether the server aborted the connection (a reset): the socket reports an error or a hang-up, which a
    reader that reads nothing sees without consuming anything."""
    poller = select.poll()
    poller.register(sock, select.POLLERR | select.POLLHUP)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


async def test_a_slow_consumer_is_cut_off_and_released_while_others_keep_streaming(http: httpx.AsyncClient) -> None:
    app = make_app(Door(), send_queue_size=4, close_timeout=0.5)
    with serve(app) as server:
        slow = await asyncio.to_thread(stalled_stream, server, "flood")
        try:
            payload = {"query": WATCH, "variables": {"t": "flood"}}
            async with open_stream(
                http, server.http_url, payload, headers={"authorization": "Bearer fast"}
            ) as response:
                fast = SSEReader(response)
                await subscribed(server, "flood", 2)  # two identities: two broker subscribers
                sent = 0
                while await subscribers(server, "flood") == 2:
                    assert sent < FLOOD_LIMIT, "the stalled reader was never cut off"
                    await publish(server, "flood", f"{sent}:{FLOOD_TEXT}")
                    event = await fast.event()  # the reading client keeps pace, event by event
                    assert event.json()["data"]["topic"].startswith(f"{sent}:")
                    sent += 1
                assert await subscribers(server, "flood") == 1

                async def reset() -> bool:
                    return reset_by_the_server(slow)

                # Not even the end of its body can reach a reader that reads nothing: after close_timeout the
                # server drops the connection rather than hold it (and its buffers) forever.
                await until(reset, what="the stalled connection to be reset")
                await publish(server, "flood", "after")
                assert (await fast.event()).json()["data"] == {"topic": "after"}
        finally:
            slow.close()


def test_the_test_reader_parses_the_event_stream_format() -> None:
    """The reader itself: fields, multi-line data, comments, a CRLF split across chunks, empty data."""
    parser = SSEParser()
    chunks = (": hi\r", '\nevent: next\nid: 7-1\ndata: {"a":\r\ndata: 1}\n', "\n", "event: complete\ndata:\n\n")
    items = [item for chunk in chunks for item in parser.feed(chunk)]
    assert items == [Comment(" hi"), SSEEvent("next", '{"a":\n1}', "7-1"), SSEEvent("complete", "", None)]


async def test_a_live_query_pushes_a_new_result_after_an_invalidation(http: httpx.AsyncClient) -> None:
    store = Store()
    with serve(make_live_app(store)) as server:
        async with open_stream(http, server.http_url, {"query": COUNTER}) as response:
            reader = SSEReader(response)
            first = await reader.event()
            assert (first.event, first.json()) == ("next", {"data": {"counter": 0}})

            def change() -> None:
                store.counter = 1

            await update(server, "Query.counter", change=change)
            second = await reader.event()
            assert (second.event, second.json()) == ("next", {"data": {"counter": 1}})


async def test_a_client_reading_event_streams_and_multipart_but_no_json_gets_a_query_as_a_stream(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    accept = "text/event-stream, multipart/mixed"  # no JSON: the answer must still be something it reads
    async with open_stream(http, guarded.http_url, {"query": "{ hello }"}, accept=accept) as response:
        assert response.status_code == HTTPStatus.OK
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = SSEReader(response)
        event = await reader.event()
        assert (event.event, event.json()) == ("next", {"data": {"hello": "Hello, world!"}})
