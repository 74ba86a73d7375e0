"""The broker contract, run over every backend: order, positions, resume, retention, liveness, release.

A Redis subscription registers upstream only in its first `__anext__`, so tests publish after `Live.open`
(which waits for `on_live`) wherever a subscriber must see the event.
"""

import asyncio
import gc

import pytest

from livegql.broker.base import Backend
from livegql.broker.retention import Retention
from livegql.core.errors import HistoryGoneError, InvalidPositionError, SlowConsumerError
from tests.broker.conftest import WAIT, Live, MakeBackend, beyond, position_key


async def _publish(backend: Backend, topic: str, values: range | list[object]) -> list[str]:
    return [await backend.publish(topic, value) for value in values]


async def test_every_subscriber_gets_every_payload_in_order_with_increasing_positions(backend: Backend) -> None:
    first, second = await Live.open(backend, "t"), await Live.open(backend, "t")
    positions = await _publish(backend, "t", range(5))
    assert [position_key(p) for p in positions] == sorted(position_key(p) for p in positions)
    assert len(set(positions)) == 5
    for live in (first, second):
        for value, position in zip(range(5), positions, strict=True):
            assert await live.next() == value
            assert live.subscription.position == position


async def test_payloads_of_every_json_type_arrive_equal(backend: Backend) -> None:
    live = await Live.open(backend, "t")
    values: list[object] = [{"a": [1, 2.5, None]}, [True, False], "text é", 42, None]
    await _publish(backend, "t", values)
    assert await live.take(len(values)) == values


async def test_publish_reaches_only_that_topics_subscribers(backend: Backend) -> None:
    news, sport = await Live.open(backend, "news"), await Live.open(backend, "sport")
    await backend.publish("news", "n")
    await backend.publish("nobody", "x")
    assert await news.next() == "n"
    await backend.publish("sport", "s")
    assert await sport.next() == "s"  # and not "x" or "n" before it


async def test_a_subscription_is_live_before_its_first_event_and_says_where_it_starts(backend: Backend) -> None:
    before = await backend.publish("t", "old")
    subscription = backend.subscribe("t")
    assert subscription.position is None  # not live yet
    await subscription.aclose()
    live = await Live.open(backend, "t")
    assert live.start == before  # nothing after `before` will be missed, nothing up to it is sent
    assert live.subscription.position == before
    after = await backend.publish("t", "new")
    assert await live.next() == "new"
    assert live.subscription.position == after
    assert live.starts == [before]  # once


async def test_resume_gives_exactly_the_missed_events_then_the_live_ones(backend: Backend) -> None:
    live = await Live.open(backend, "t")
    positions = await _publish(backend, "t", range(5))
    assert await live.take(2) == [0, 1]
    seen = live.subscription.position
    assert seen == positions[1]
    await live.aclose()
    positions += await _publish(backend, "t", range(5, 7))
    resumed = await Live.open(backend, "t", after=seen)
    assert resumed.start == seen
    assert await resumed.take(5) == [2, 3, 4, 5, 6]
    assert resumed.subscription.position == positions[6]
    await backend.publish("t", 7)
    assert await resumed.next() == 7
    assert resumed.starts == [seen]


async def test_resume_while_events_keep_coming_has_no_gap_and_no_duplicate(backend: Backend) -> None:
    positions = await _publish(backend, "t", range(50))
    publishing = asyncio.create_task(_publish(backend, "t", range(50, 300)))
    resumed = await Live.open(backend, "t", after=positions[9])
    await publishing
    await backend.publish("t", "end")
    received = []
    while (value := await resumed.next()) != "end":
        received.append(value)
    assert received == list(range(10, 300))


async def test_resume_at_the_latest_position_gives_only_new_events(backend: Backend) -> None:
    latest = (await _publish(backend, "t", range(3)))[-1]
    resumed = await Live.open(backend, "t", after=latest)
    assert resumed.start == latest
    await backend.publish("t", "new")
    assert await resumed.next() == "new"


async def test_resume_after_trimmed_history_is_refused_not_partial(make_backend: MakeBackend) -> None:
    backend = make_backend(retention=Retention(count=5))
    # Redis trims whole stream nodes (100 entries), so publish well past one before expecting a trim.
    positions = await _publish(backend, "t", range(250))
    subscription = backend.subscribe("t", after=positions[0])  # never raises here
    with pytest.raises(HistoryGoneError, match=rf"'t'.*{positions[0]}"):
        async with asyncio.timeout(WAIT):
            await anext(subscription)
    assert backend.subscriber_count("t") == 0
    recent = await Live.open(backend, "t", after=positions[-3])
    assert await recent.take(2) == [248, 249]


async def test_a_malformed_position_is_invalid(backend: Backend) -> None:
    subscription = backend.subscribe("t", after="not-a-position")
    with pytest.raises(InvalidPositionError, match=r"'t'.*not-a-position"):
        async with asyncio.timeout(WAIT):
            await anext(subscription)
    assert backend.subscriber_count() == 0


async def test_a_position_never_handed_out_is_history_gone(backend: Backend) -> None:
    latest = await backend.publish("t", "only")
    future = beyond(latest)
    subscription = backend.subscribe("t", after=future)
    with pytest.raises(HistoryGoneError, match=rf"'t'.*{future}"):
        async with asyncio.timeout(WAIT):
            await anext(subscription)


async def test_a_slow_consumer_gets_an_error_not_a_gap(make_backend: MakeBackend) -> None:
    backend = make_backend(max_queue=3)
    slow, fast = await Live.open(backend, "t"), await Live.open(backend, "t")
    for n in range(5):
        await backend.publish("t", n)
        assert await fast.next() == n  # so all five reached the slow one too
    assert await slow.next() == 0  # its first __anext__ was waiting already; 1-4 overflow a queue of 3
    with pytest.raises(SlowConsumerError):
        await slow.next()
    assert backend.subscriber_count("t") == 1


async def test_release_by_aclose_context_exit_and_collection(backend: Backend) -> None:
    kept = await Live.open(backend, "a")
    async with backend.subscribe("a") as inner:
        assert backend.subscriber_count("a") == 2
        assert inner.topic == "a"
    assert backend.subscriber_count("a") == 1
    other = await Live.open(backend, "b")
    assert (backend.subscriber_count(), backend.topic_count()) == (2, 2)
    await kept.aclose()
    await other.aclose()
    assert (backend.subscriber_count(), backend.topic_count()) == (0, 0)
    backend.subscribe("c")  # dropped at once, never closed
    gc.collect()
    assert (backend.subscriber_count(), backend.topic_count()) == (0, 0)
    with pytest.raises(StopAsyncIteration):
        await kept.next()


async def test_close_ends_every_subscription(backend: Backend) -> None:
    live = await Live.open(backend, "t")
    assert live.first is not None
    waiting = live.first
    await backend.close()
    with pytest.raises(StopAsyncIteration):
        async with asyncio.timeout(WAIT):
            await waiting
    assert backend.topic_count() == 0


async def test_a_reachable_broker_checks_healthy(backend: Backend) -> None:
    assert await backend.check() is True
    assert backend.healthy
