"""Shared subscription streams end to end: one source and one execution per event for identical operations,
separate streams for different ones, the stream's life, errors, slow consumers and leaks."""

import asyncio
import logging
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from livegql.core import json
from tests.support.fanout_helpers import (
    FAIL,
    FEED,
    make_app,
    on_server,
    open_peer,
    publish,
    results,
    streams,
    subscribers,
    sync,
    texts,
    wait_for,
)
from tests.support.server import LiveServer, serve
from tests.support.wsclient import RawPeer
from tests.transport.test_leaks import tasks_back_to


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with serve(make_app()) as live:
        yield live


def executions(server: LiveServer) -> int:
    return server.app.subscriptions.executions


async def test_identical_subscriptions_share_one_source_and_one_execution_per_event(server: LiveServer) -> None:
    members, events = 50, 20
    async with AsyncExitStack() as stack:
        peers = [await open_peer(stack, server.ws_url) for _ in range(members)]
        for peer in peers:
            await peer.subscribe("s", FEED, {"topic": "news"})
        for peer in peers:
            await sync(peer)  # every subscribe was handled: all 50 are members before the first event
        await wait_for(server, lambda: subscribers(server, "news")() == 1, "the shared source to subscribe")
        assert await on_server(server, streams(server)) == 1

        sent = [f"event {n}" for n in range(events)]
        await publish(server, "news", *sent)
        for peer in peers:
            assert await texts(peer, "s", events) == sent
        for peer in peers:
            await sync(peer)  # exactly once: nothing follows the last event

        assert await on_server(server, lambda: executions(server)) == events  # not members * events
        assert await on_server(server, subscribers(server, "news")) == 1
        assert await on_server(server, subscribers(server)) == 1


TWO_OPERATIONS = 'subscription A { a: feed(topic: "a") { text } } subscription B { b: feed(topic: "a") { text } }'


def _feed_item(text: str) -> dict[str, Any]:
    return {"text": text}


@pytest.mark.parametrize(
    ("first", "second", "expected_first", "expected_second"),
    [
        pytest.param(
            {"query": FEED, "variables": {"topic": "a"}},
            {"query": FEED, "variables": {"topic": "b"}},
            [{"feed": {"text": "a1", "viewer": "anonymous"}}, {"feed": {"text": "a2", "viewer": "anonymous"}}],
            [{"feed": {"text": "b1", "viewer": "anonymous"}}],
            id="variables",
        ),
        pytest.param(
            {"query": 'subscription { feed(topic: "a") { text } }'},
            {"query": 'subscription { item: feed(topic: "a") { text } }'},
            [{"feed": _feed_item("a1")}, {"feed": _feed_item("a2")}],
            [{"item": _feed_item("a1")}, {"item": _feed_item("a2")}],
            id="query-text",
        ),
        pytest.param(
            {"query": TWO_OPERATIONS, "operationName": "A"},
            {"query": TWO_OPERATIONS, "operationName": "B"},
            [{"a": _feed_item("a1")}, {"a": _feed_item("a2")}],
            [{"b": _feed_item("a1")}, {"b": _feed_item("a2")}],
            id="operation-name",
        ),
    ],
)
async def test_different_operations_get_separate_streams(
    server: LiveServer,
    first: dict[str, Any],
    second: dict[str, Any],
    expected_first: list[Any],
    expected_second: list[Any],
) -> None:
    async with AsyncExitStack() as stack:
        one, two = [await open_peer(stack, server.ws_url) for _ in range(2)]
        await one.send({"id": "s", "type": "subscribe", "payload": first})
        await two.send({"id": "s", "type": "subscribe", "payload": second})
        await wait_for(server, lambda: subscribers(server)() == 2, "two sources to subscribe")
        assert await on_server(server, streams(server)) == 2

        await publish(server, "a", "a1")
        await publish(server, "b", "b1")
        await publish(server, "a", "a2")
        assert await results(one, "s", len(expected_first)) == expected_first
        assert await results(two, "s", len(expected_second)) == expected_second
        await sync(one)
        await sync(two)
        assert await on_server(server, lambda: executions(server)) == len(expected_first) + len(expected_second)


async def test_variables_in_another_key_order_still_share(server: LiveServer) -> None:
    async with AsyncExitStack() as stack:
        one, two = [await open_peer(stack, server.ws_url) for _ in range(2)]
        await one.subscribe("s", FEED, {"topic": "a", "extra": 1})
        await two.subscribe("s", FEED, {"extra": 1, "topic": "a"})
        await sync(one)
        await sync(two)
        assert await on_server(server, streams(server)) == 1


@pytest.mark.parametrize("leave", ["complete", "disconnect"])
async def test_the_source_runs_from_the_first_subscriber_to_the_last(server: LiveServer, leave: str) -> None:
    baseline = await asyncio.to_thread(server.server_tasks)
    async with AsyncExitStack() as stack:
        peers = [await open_peer(stack, server.ws_url) for _ in range(3)]
        for peer in peers:
            await peer.subscribe("s", FEED, {"topic": "t"})
            await sync(peer)
        await wait_for(server, lambda: subscribers(server, "t")() == 1, "the source to subscribe")
        await publish(server, "t", "old")
        for peer in peers:
            assert await texts(peer, "s", 1) == ["old"]

        for index, peer in enumerate(peers):
            if leave == "complete":
                await peer.send({"id": "s", "type": "complete"})
                await sync(peer)
            else:
                await peer.connection.close()
            if index < len(peers) - 1:
                # Members remain: the stream and its one broker subscriber stay.
                assert await on_server(server, streams(server)) == 1
        await wait_for(server, lambda: streams(server)() == 0, "the stream to stop")
        await wait_for(server, lambda: subscribers(server, "t")() == 0, "the broker subscriber to be released")

        await publish(server, "t", "unheard")  # nobody subscribed: not executed
        later = await open_peer(stack, server.ws_url)
        await later.subscribe("s", FEED, {"topic": "t"})
        await wait_for(server, lambda: subscribers(server, "t")() == 1, "a fresh source to subscribe")
        assert await on_server(server, streams(server)) == 1
        await publish(server, "t", "fresh")
        assert await texts(later, "s", 1) == ["fresh"]
        assert await on_server(server, lambda: executions(server)) == 2
    await tasks_back_to(server, baseline)


async def test_a_late_joiner_gets_only_later_events_and_a_leaver_stops_receiving(server: LiveServer) -> None:
    async with AsyncExitStack() as stack:
        early, late, other = [await open_peer(stack, server.ws_url) for _ in range(3)]
        await early.subscribe("s", FEED, {"topic": "t"})
        await wait_for(server, lambda: subscribers(server, "t")() == 1, "the source to subscribe")
        await publish(server, "t", "e1", "e2")
        assert await texts(early, "s", 2) == ["e1", "e2"]  # both were relayed before `late` joins

        await late.subscribe("s", FEED, {"topic": "t"})
        await other.subscribe("o", FEED, {"topic": "t"})
        await sync(late)
        await sync(other)
        await publish(server, "t", "e3")
        for peer, id in ((early, "s"), (late, "s"), (other, "o")):
            assert await texts(peer, id, 1) == ["e3"]

        await early.send({"id": "s", "type": "complete"})
        await sync(early)
        await publish(server, "t", "e4", "e5")
        for peer, id in ((late, "s"), (other, "o")):
            assert await texts(peer, id, 2) == ["e4", "e5"]
        await sync(early)  # a frame for e4 or e5 would arrive before this pong
        assert await on_server(server, streams(server)) == 1
        assert await on_server(server, lambda: executions(server)) == 5


async def _still_serves(peer: RawPeer) -> None:
    await peer.subscribe("q", "{ hello }")
    assert await peer.receive() == {"id": "q", "type": "next", "payload": {"data": {"hello": "hello"}}}
    assert await peer.receive() == {"id": "q", "type": "complete"}


def _assert_error(message: dict[str, Any], id: str) -> None:
    assert message["type"] == "error", message
    assert message["id"] == id
    assert message["payload"][0]["message"] == "Internal server error"


@pytest.mark.parametrize("failure", ["source-raises-first", "subscribe-raises"])
async def test_a_source_failing_before_its_first_event_errors_every_member(server: LiveServer, failure: str) -> None:
    async with AsyncExitStack() as stack:
        peers = [await open_peer(stack, server.ws_url) for _ in range(3)]
        for index, peer in enumerate(peers):
            if failure == "subscribe-raises":
                await peer.subscribe(f"s{index}", "subscription { broken }")
            else:
                await peer.subscribe(f"s{index}", FEED, {"topic": "doom"})
                await sync(peer)
        if failure == "source-raises-first":
            await wait_for(server, lambda: subscribers(server, "doom")() == 1, "the source to subscribe")
            await publish(server, "doom", FAIL)
        for index, peer in enumerate(peers):
            _assert_error(await peer.receive(), f"s{index}")
            await _still_serves(peer)
        assert await on_server(server, streams(server)) == 0
        await wait_for(server, lambda: subscribers(server)() == 0, "the failed source to be released")


async def test_a_source_failing_mid_stream_errors_every_member(server: LiveServer) -> None:
    async with AsyncExitStack() as stack:
        peers = [await open_peer(stack, server.ws_url) for _ in range(3)]
        for index, peer in enumerate(peers):
            await peer.subscribe(f"s{index}", FEED, {"topic": "t"})
            await sync(peer)
        await wait_for(server, lambda: subscribers(server, "t")() == 1, "the source to subscribe")
        await publish(server, "t", "ok", FAIL, "never")
        for index, peer in enumerate(peers):
            assert await texts(peer, f"s{index}", 1) == ["ok"]
            _assert_error(await peer.receive(), f"s{index}")
            await _still_serves(peer)
        assert await on_server(server, streams(server)) == 0


async def test_a_validation_error_is_an_error_for_that_id_only(server: LiveServer) -> None:
    async with AsyncExitStack() as stack:
        one, two = [await open_peer(stack, server.ws_url) for _ in range(2)]
        for peer in (one, two):
            await peer.subscribe("s", FEED, {"topic": "t"})
        await wait_for(server, lambda: subscribers(server, "t")() == 1, "the source to subscribe")
        await one.subscribe("bad", "subscription { feed(topic: 1) { nope } }")
        error = await one.receive()
        assert error["type"] == "error"
        assert error["id"] == "bad"
        await sync(two)
        await publish(server, "t", "after")
        for peer in (one, two):
            assert await texts(peer, "s", 1) == ["after"]
        assert await on_server(server, streams(server)) == 1


BLOB = 64 * 1024
MAX_EVENTS = 1000  # 64 MiB: far more than the kernel buffers of a loopback connection hold


def _event(number: int) -> str:
    return f"{number:06d}" + "x" * BLOB


def _slow_consumer_closed(caplog: pytest.LogCaptureFixture) -> bool:
    return any(record.getMessage().startswith("Closing a slow consumer") for record in caplog.records)


async def _stall_until_closed(server: LiveServer, fast: RawPeer, caplog: pytest.LogCaptureFixture) -> int:
    """Publish big events until the stalled peer is closed as a slow consumer; the fast one reads each."""
    for number in range(MAX_EVENTS):
        await publish(server, "t", _event(number))
        # The stalled peer joined first, so the hub handled its sink before the fast peer's.
        assert [text[:6] for text in await texts(fast, "s", 1)] == [f"{number:06d}"]
        if _slow_consumer_closed(caplog):
            return number + 1
    served = await on_server(server, lambda: getattr(server.app, "active_sockets", None))
    raise AssertionError(f"no slow-consumer close after {MAX_EVENTS} events; sockets still served: {served}")


async def _read_to_close(peer: RawPeer) -> tuple[list[str], int | None, str]:
    """Everything the peer still has to read, then the close code and reason it got (None: no Close frame)."""
    labels = []
    try:
        async with asyncio.timeout(10):
            while True:
                message = json.loads(await peer.connection.recv())
                labels.append(message["payload"]["data"]["feed"]["text"][:6])
    except ConnectionClosed as closed:
        if closed.rcvd is None:
            return labels, None, ""
        return labels, closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("unreachable")


async def _start_slow_and_fast(server: LiveServer, stack: AsyncExitStack) -> tuple[RawPeer, RawPeer]:
    stalled = await open_peer(stack, server.ws_url, max_queue=1)
    fast = await open_peer(stack, server.ws_url)
    for peer in (stalled, fast):
        await peer.subscribe("s", FEED, {"topic": "t"})
        await sync(peer)
    await wait_for(server, lambda: subscribers(server, "t")() == 1, "the source to subscribe")
    return stalled, fast


async def _stream_continues_for(server: LiveServer, fast: RawPeer, published: int) -> None:
    await publish(server, "t", *[_event(published + n) for n in range(3)])
    labels = [text[:6] for text in await texts(fast, "s", 3)]
    assert labels == [f"{published + n:06d}" for n in range(3)]
    assert await on_server(server, streams(server)) == 1
    assert await on_server(server, lambda: executions(server)) == published + 3


async def test_a_stalled_reader_is_closed_1013_while_the_others_get_every_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="livegql.websocket")
    with serve(make_app(send_queue_size=4, close_timeout=30)) as server:
        async with AsyncExitStack() as stack:
            stalled, fast = await _start_slow_and_fast(server, stack)
            published = await _stall_until_closed(server, fast, caplog)
            await _stream_continues_for(server, fast, published)

            # Reading again (within close_timeout) lets the queued Close out: a gap-free prefix, then 1013.
            labels, code, reason = await _read_to_close(stalled)
            assert (code, reason) == (1013, "slow consumer")
            assert labels == [f"{n:06d}" for n in range(len(labels))]
            assert len(labels) < published


async def test_a_peer_that_never_reads_again_is_dropped_after_close_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="livegql.websocket")
    app = make_app(send_queue_size=4, close_timeout=0.2)
    with serve(app) as server:
        baseline = await asyncio.to_thread(server.server_tasks)
        async with AsyncExitStack() as stack:
            stalled, fast = await _start_slow_and_fast(server, stack)
            published = await _stall_until_closed(server, fast, caplog)
            await wait_for(server, lambda: app.active_sockets == 1, "the server to stop serving the stalled peer")
            # Not a graceful close, which would wait forever for the peer to read: the TCP connection is aborted.
            assert any("Aborting a slow consumer" in record.getMessage() for record in caplog.records)
            await _stream_continues_for(server, fast, published)
            labels, code, _ = await _read_to_close(stalled)
            assert labels == [f"{n:06d}" for n in range(len(labels))]
            assert code is None  # no Close frame could get out
        await tasks_back_to(server, baseline)


async def test_no_task_outlives_shared_streams_errors_and_slow_consumers(server: LiveServer) -> None:
    baseline = await asyncio.to_thread(server.server_tasks)
    async with AsyncExitStack() as stack:
        peers = [await open_peer(stack, server.ws_url) for _ in range(10)]
        for index, peer in enumerate(peers):
            await peer.subscribe("shared", FEED, {"topic": "t"})
            await peer.subscribe("own", FEED, {"topic": f"own-{index}"})
            await peer.subscribe("doomed", FEED, {"topic": "doom"})
            await peer.subscribe("broken", "subscription { broken }")
        await wait_for(server, lambda: subscribers(server)() == 12, "every source to subscribe")
        await publish(server, "doom", FAIL)
        await publish(server, "t", "e")
        for peer in peers[:5]:
            await peer.send({"id": "own", "type": "complete"})
        for peer in peers[5:]:
            peer.connection.transport.abort()
        for peer in peers[:5]:
            seen = {(message["id"], message["type"]) for message in [await peer.receive() for _ in range(3)]}
            assert seen == {("broken", "error"), ("doomed", "error"), ("shared", "next")}
            await sync(peer)
        await wait_for(server, lambda: subscribers(server)() == 1, "only the shared source to remain")
    await wait_for(server, lambda: streams(server)() == 0, "every stream to stop")
    await wait_for(server, lambda: subscribers(server)() == 0, "every broker subscriber to be released")
    await tasks_back_to(server, baseline)
