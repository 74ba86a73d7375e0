"""The Redis broker beyond the shared contract: one upstream subscription per topic, several processes on one
Redis, idempotent publish, and faults (Redis unreachable, the pub/sub connection killed, Redis restarted)."""

import asyncio
import gc
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from livegql.broker.redis import RedisBackend
from livegql.broker.redis_resp import ReplyReader
from livegql.broker.redis_script import parse_position
from livegql.broker.redis_subscription import REPLAY_PAGE
from livegql.broker.redis_topics import channel_name, stream_key
from livegql.broker.retention import Retention
from livegql.core.errors import BrokerUnavailableError, ConfigurationError, HistoryGoneError
from tests.broker.conftest import WAIT, Live, position_key
from tests.support.redis import RedisServer, delete_keys, free_port
from tests.support.waiting import until

FAST_RECONNECT = (0.01, 0.1)


@asynccontextmanager
async def _backend(url: str, prefix: str, **options: Any) -> AsyncIterator[RedisBackend]:
    backend = RedisBackend(url, key_prefix=prefix, **options)
    try:
        yield backend
    finally:
        await backend.close()


@asynccontextmanager
async def _client(url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(url)
    try:
        yield client
    finally:
        await client.aclose()


async def _numsub(client: aioredis.Redis, channel: str) -> int:
    reply = await client.pubsub_numsub(channel)
    return int(reply[0][1])


async def _drain_until(live: Live, sentinel: object, positions: list[str] | None = None) -> list[Any]:
    values = []
    while (value := await live.next()) != sentinel:
        values.append(value)
        if positions is not None:
            assert live.subscription.position is not None
            positions.append(live.subscription.position)
    return values


def test_positions_are_stream_ids_within_redis_range() -> None:
    assert parse_position("1700000000000-3") == (1700000000000, 3)
    assert parse_position("0-0") == (0, 0)
    assert parse_position(f"{2**64 - 1}-{2**64 - 1}") == (2**64 - 1, 2**64 - 1)
    for bad in ["", "12", "12-", "-3", "1-2-3", "a-1", "1-²", " 1-2", f"{2**64}-0", "1_0-2"]:
        assert parse_position(bad) is None, bad


_REPLIES: list[tuple[bytes, object]] = [
    (b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", [b"subscribe", b"ch", 1]),
    (b'*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$11\r\n1-0 {"a":1}\r\n', [b"message", b"ch", b'1-0 {"a":1}']),
    (b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\n\r\n\r\n\r\n", [b"message", b"ch", b"\r\n\r\n"]),
    (b"*2\r\n$4\r\npong\r\n$0\r\n\r\n", [b"pong", b""]),
    (b"+PONG\r\n", b"PONG"),
    (b"*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n", [b"unsubscribe", b"ch", 0]),
]


async def test_the_pubsub_reply_reader_parses_replies_split_anywhere() -> None:
    wire = b"".join(raw for raw, _ in _REPLIES) * 2
    expected = [reply for _, reply in _REPLIES] * 2
    for chunk in (1, 3, 7, len(wire)):
        stream = asyncio.StreamReader()
        reader = ReplyReader(stream)
        for start in range(0, len(wire), chunk):
            stream.feed_data(wire[start : start + chunk])
        stream.feed_eof()
        received: list[object] = []
        while len(received) < len(expected):
            received += await reader.batch()
        assert received == expected, chunk
        with pytest.raises(RedisConnectionError):
            await reader.batch()


async def test_the_pubsub_reply_reader_raises_an_error_reply() -> None:
    stream = asyncio.StreamReader()
    stream.feed_data(b"-NOPERM no permissions\r\n")
    with pytest.raises(ResponseError, match="NOPERM"):
        await ReplyReader(stream).batch()


async def test_the_pubsub_reply_reader_rejects_a_redis_py_without_the_stream_it_reads() -> None:
    class FutureConnection:  # a redis-py connection that no longer keeps its stream in `_reader`
        _stream = asyncio.StreamReader()

    with pytest.raises(ConfigurationError, match=r"redis-py \S+ is not supported"):
        ReplyReader.of(cast(AbstractConnection, FutureConnection()))


async def test_local_subscribers_share_one_upstream_subscription_per_topic(redis_url: str, prefix: str) -> None:
    async with _backend(redis_url, prefix) as backend, _client(redis_url) as client:
        news = [await Live.open(backend, "news") for _ in range(5)]
        sport = await Live.open(backend, "sport")
        assert await _numsub(client, channel_name(prefix, "news")) == 1
        assert await _numsub(client, channel_name(prefix, "sport")) == 1
        assert len(await client.pubsub_channels(f"{prefix}*")) == 2
        for live in news[:4]:
            await live.aclose()
        await backend.publish("news", "still here")
        assert await news[4].next() == "still here"
        assert await _numsub(client, channel_name(prefix, "news")) == 1
        await news[4].aclose()

        async def news_unsubscribed() -> bool:
            return await _numsub(client, channel_name(prefix, "news")) == 0

        await until(news_unsubscribed, WAIT, "UNSUBSCRIBE after the last local subscriber left")
        assert await _numsub(client, channel_name(prefix, "sport")) == 1
        await sport.aclose()


async def test_topics_coming_and_going_quickly_keep_their_upstream_subscription_right(
    redis_url: str, prefix: str
) -> None:
    async with _backend(redis_url, prefix) as backend, _client(redis_url) as client:
        for round_ in range(20):  # UNSUBSCRIBE and SUBSCRIBE of one channel in flight together
            live = await Live.open(backend, "churn")
            await backend.publish("churn", round_)
            assert await live.next() == round_
            await live.aclose()
        many = [await Live.open(backend, f"room-{n}") for n in range(100)]
        for n in range(len(many)):
            await backend.publish(f"room-{n}", n)
        assert [await live.next() for live in many] == list(range(100))
        for live in many:
            await live.aclose()

        async def none_left() -> bool:
            return not await client.pubsub_channels(f"{prefix}*")

        await until(none_left, WAIT, "every channel unsubscribed")


async def test_an_abandoned_live_subscription_is_unsubscribed_upstream_when_collected(
    redis_url: str, prefix: str
) -> None:
    async with _backend(redis_url, prefix) as backend, _client(redis_url) as client:
        live = await Live.open(backend, "t")
        assert await _numsub(client, channel_name(prefix, "t")) == 1
        assert live.first is not None
        live.first.cancel()
        await asyncio.wait([live.first])
        del live  # never closed
        gc.collect()
        assert backend.subscriber_count() == 0

        async def unsubscribed() -> bool:
            return await _numsub(client, channel_name(prefix, "t")) == 0

        await until(unsubscribed, WAIT, "UNSUBSCRIBE of the collected subscription's topic")


async def test_two_backends_on_one_redis_see_each_others_events(redis_url: str, prefix: str) -> None:
    async with _backend(redis_url, prefix) as first, _backend(redis_url, prefix) as second:
        here, there = await Live.open(first, "t"), await Live.open(second, "t")
        mine = await first.publish("t", "from first")
        theirs = await second.publish("t", "from second")
        for live in (here, there):
            assert await live.take(2) == ["from first", "from second"]
            assert live.subscription.position == theirs
        assert position_key(mine) < position_key(theirs)


async def test_a_replay_longer_than_a_page_then_live(redis_url: str, prefix: str) -> None:
    async with _backend(redis_url, prefix) as backend:
        total = REPLAY_PAGE * 2 + 10
        positions = [await backend.publish("t", n) for n in range(total)]
        resumed = await Live.open(backend, "t", after=positions[0])
        await backend.publish("t", "end")
        assert await _drain_until(resumed, "end") == list(range(1, total))


async def test_events_older_than_the_retention_age_are_trimmed_and_count_as_gone(redis_url: str, prefix: str) -> None:
    async with _backend(redis_url, prefix) as backend, _client(redis_url) as client:
        # An entry from 1970 (explicit ID): far older than the retention's 600 s when the next publish trims.
        await client.xadd(stream_key(prefix, "t"), {"p": b'"ancient"'}, id="1000-0")
        latest = await backend.publish("t", "new")
        assert await client.xlen(stream_key(prefix, "t")) == 1
        gone = backend.subscribe("t", after="999-0")
        with pytest.raises(HistoryGoneError, match="no longer retained"):
            await anext(gone)
        resumed = await Live.open(backend, "t", after="1000-0")  # nothing after it is missing
        assert await resumed.next() == "new"
        assert resumed.subscription.position == latest


async def test_an_idempotency_key_publishes_once(redis_url: str, prefix: str) -> None:
    async with _backend(redis_url, prefix) as backend, _client(redis_url) as client:
        live = await Live.open(backend, "t")
        first = await backend.publish("t", "once", idempotency_key="order-42")
        again = await backend.publish("t", "once", idempotency_key="order-42")
        other = await backend.publish("t", "twice", idempotency_key="order-43")
        assert first == again != other
        await backend.publish("t", "end")
        assert await _drain_until(live, "end") == ["once", "twice"]
        assert await client.xlen(stream_key(prefix, "t")) == 3


async def test_a_payload_that_is_not_json_is_a_type_error(redis_url: str, prefix: str) -> None:
    async with _backend(redis_url, prefix) as backend:
        with pytest.raises(TypeError, match="cannot publish to 't'"):
            await backend.publish("t", object())


async def test_an_unreachable_redis_fails_publish_fast_and_is_unhealthy() -> None:
    port = free_port()  # nothing listens there
    async with _backend(f"redis://127.0.0.1:{port}/0", "x:", reconnect_delay=FAST_RECONNECT) as backend:
        assert backend.healthy  # nothing tried yet
        began = time.monotonic()
        with pytest.raises(
            BrokerUnavailableError, match=rf"cannot publish to 't': Redis at 127.0.0.1:{port} unreachable"
        ):
            await backend.publish("t", 1)
        assert time.monotonic() - began < 1.0
        assert not backend.healthy
        subscription = backend.subscribe("t")
        waiting = asyncio.ensure_future(anext(subscription))
        done, _ = await asyncio.wait([waiting], timeout=0.2)
        assert not done  # waits for Redis, does not fail the subscriber
        assert not backend.healthy
        await subscription.aclose()
        with pytest.raises(StopAsyncIteration):
            await waiting


async def _kill_pubsub_connection(client: aioredis.Redis, name: str) -> None:
    """CLIENT KILL our listener's connection only (other tests may share this Redis)."""
    for entry in await client.client_list(_type="pubsub"):
        if entry.get("name") == name:
            await client.client_kill_filter(_id=entry["id"])
            return
    raise AssertionError(f"no pub/sub connection named {name!r}")


async def test_events_published_while_the_pubsub_connection_is_down_arrive_after_it_returns(
    redis_url: str, prefix: str
) -> None:
    name = f"livegql-test-{uuid.uuid4().hex[:8]}"
    url = f"{redis_url}?client_name={name}"
    async with _backend(url, prefix, reconnect_delay=(0.3, 0.3)) as backend, _client(redis_url) as client:
        live = await Live.open(backend, "t")
        await backend.publish("t", "before")
        assert await live.next() == "before"
        await _kill_pubsub_connection(client, name)

        async def down() -> bool:
            return not backend.healthy

        await until(down, WAIT, "the listener to notice the killed connection")
        for n in range(20):  # the channel has no subscriber now: only the stream has these
            await backend.publish("t", n)
        await backend.publish("t", "end")
        assert await _drain_until(live, "end") == list(range(20))
        assert backend.healthy


async def test_events_trimmed_while_the_pubsub_connection_was_down_end_the_stream(redis_url: str, prefix: str) -> None:
    name = f"livegql-test-{uuid.uuid4().hex[:8]}"
    url = f"{redis_url}?client_name={name}"
    options: dict[str, Any] = {"reconnect_delay": (0.3, 0.3), "retention": Retention(count=5)}
    async with _backend(url, prefix, **options) as backend, _client(redis_url) as client:
        live = await Live.open(backend, "t")
        await _kill_pubsub_connection(client, name)

        async def down() -> bool:
            return not backend.healthy

        await until(down, WAIT, "the listener to notice the killed connection")
        for n in range(20):  # more than the 5 retained: the first ones are gone before the listener is back
            await backend.publish("t", n)
        with pytest.raises(HistoryGoneError, match="'t'"):
            await live.next()


async def _publish_through(
    backend: RedisBackend, outage: Callable[[], None], server: RedisServer, accepted: list[str]
) -> int:
    """Publish 0, 1, 2, ... with an idempotency key each, through an outage; retry each failed one with the
    same key once Redis is back. Returns how many publishes failed."""
    failed, restarted = 0, asyncio.Event()
    fault: asyncio.Task[None] | None = None
    n = after_restart = 0
    while after_restart < 50:
        try:
            accepted.append(await backend.publish("t", n, idempotency_key=f"event-{n}"))
        except BrokerUnavailableError:
            failed += 1
            assert not backend.healthy
            assert fault is not None
            await fault
            await asyncio.to_thread(server.start)
            restarted.set()
            continue
        n += 1
        if restarted.is_set():
            after_restart += 1
        elif n == 50 and fault is None:
            fault = asyncio.create_task(asyncio.to_thread(outage))  # mid-stream; publishing goes on meanwhile
    return failed


@pytest.mark.parametrize("fault", ["stop", "kill"])
async def test_a_subscriber_survives_redis_restarting_mid_stream(tmp_path: Path, fault: str) -> None:
    with RedisServer(tmp_path / "redis") as server:
        async with _backend(server.url, "restart:", reconnect_delay=FAST_RECONNECT) as backend:
            live = await Live.open(backend, "t")
            positions: list[str] = []
            consumer = asyncio.create_task(_drain_until(live, "end", positions))
            accepted: list[str] = []
            async with asyncio.timeout(3 * WAIT):
                failed = await _publish_through(backend, getattr(server, fault), server, accepted)
            assert failed >= 1
            await backend.publish("t", "end")
            async with asyncio.timeout(WAIT):
                received = await consumer
            assert received == list(range(len(accepted)))  # every accepted event, once, in order
            assert positions == accepted

            async def healthy() -> bool:
                return backend.healthy

            await until(healthy, WAIT, "the listener to reconnect")
        delete_keys(server.url, "restart:")
