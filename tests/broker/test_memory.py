"""The in-memory broker: ordering, fan-out, release, slow consumers."""

import asyncio
import gc

import pytest

from livegql import PubSub, SlowConsumerError
from livegql.broker import subscription_scope


async def test_every_subscriber_gets_every_payload_in_order() -> None:
    pubsub = PubSub()
    first, second = pubsub.subscribe("t"), pubsub.subscribe("t")
    for n in range(5):
        await pubsub.publish("t", n)
    assert [await anext(first) for _ in range(5)] == [0, 1, 2, 3, 4]
    assert [await anext(second) for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_publish_reaches_only_the_topic_subscribers() -> None:
    pubsub = PubSub()
    news, sport = pubsub.subscribe("news"), pubsub.subscribe("sport")
    await pubsub.publish("news", "n")
    await pubsub.publish("nobody", "x")
    assert await anext(news) == "n"
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await anext(sport)


async def test_a_waiting_subscriber_wakes_on_publish() -> None:
    pubsub = PubSub()
    subscription = pubsub.subscribe("t")
    waiter = asyncio.ensure_future(anext(subscription))
    await asyncio.sleep(0)  # let the waiter park on its future
    assert not waiter.done()
    await pubsub.publish("t", "hi")
    async with asyncio.timeout(1):
        assert await waiter == "hi"


async def test_aclose_and_context_exit_release_the_topic() -> None:
    pubsub = PubSub()
    subscription = pubsub.subscribe("t")
    async with pubsub.subscribe("t"):
        assert pubsub.subscriber_count("t") == 2
    assert pubsub.subscriber_count("t") == 1
    await subscription.aclose()
    assert pubsub.subscriber_count() == 0
    assert pubsub.topic_count() == 0
    with pytest.raises(StopAsyncIteration):
        await anext(subscription)


async def test_an_abandoned_subscription_is_released_when_collected() -> None:
    pubsub = PubSub()
    pubsub.subscribe("t")  # dropped at once, never closed
    gc.collect()
    assert pubsub.subscriber_count() == 0


async def test_the_operation_scope_closes_what_an_operation_opened() -> None:
    pubsub = PubSub()
    kept = []
    async with subscription_scope():
        kept.append(pubsub.subscribe("a"))
        kept.append(pubsub.subscribe("b"))
        assert pubsub.subscriber_count() == 2
    assert pubsub.subscriber_count() == 0
    outside = pubsub.subscribe("c")  # not in any scope: untouched by the scope above
    assert pubsub.subscriber_count() == 1
    await outside.aclose()


async def test_a_slow_consumer_gets_an_error_not_a_silent_gap() -> None:
    pubsub = PubSub(max_queue=3)
    slow = pubsub.subscribe("t")
    fast = pubsub.subscribe("t")
    for n in range(4):
        await pubsub.publish("t", n)
        assert await anext(fast) == n
    with pytest.raises(SlowConsumerError):
        await anext(slow)
    assert pubsub.subscriber_count("t") == 1  # the slow one is gone, the fast one stays


async def test_close_ends_every_subscription() -> None:
    pubsub = PubSub()
    subscription = pubsub.subscribe("t")
    waiter = asyncio.ensure_future(anext(subscription))
    await asyncio.sleep(0)
    await pubsub.close()
    with pytest.raises(StopAsyncIteration):
        async with asyncio.timeout(1):
            await waiter
    assert pubsub.topic_count() == 0


def test_max_queue_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_queue"):
        PubSub(max_queue=0)
