"""The in-memory broker: ordering, fan-out, release, slow consumers, retention and forgetting of history.

Resuming from a position is in test_memory_resume; the model-based property test in test_memory_model.
"""

import asyncio
import gc
from typing import Any

import pytest

from livegql import PubSub, SlowConsumerError
from livegql.broker import subscription_scope
from livegql.broker.memory import MemoryBackend, MemorySubscription
from livegql.broker.retention import Retention
from livegql.core.errors import HistoryGoneError


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


# Retention and resumable positions: the backend itself, driven with a fake clock and without waiting.
# test_memory_resume and test_memory_model share these helpers.


class Clock:
    """A monotonic clock the test moves by hand, so age retention needs no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_backend(
    clock: Clock | None = None, *, count: int = 1000, seconds: float = 60.0, max_queue: int = 100
) -> MemoryBackend:
    return MemoryBackend(max_queue=max_queue, retention=Retention(count=count, seconds=seconds), clock=clock or Clock())


def poll(subscription: MemorySubscription) -> tuple[bool, Any]:
    """Run one `__anext__` without letting it wait: (True, payload) if one was ready, else (False, None)."""
    step = subscription.__anext__()
    try:
        step.send(None)
    except StopIteration as done:
        return True, done.value
    step.close()  # it parked on its waiter: nothing was ready
    return False, None


def drain(subscription: MemorySubscription) -> list[Any]:
    payloads: list[Any] = []
    while True:
        ready, payload = poll(subscription)
        if not ready:
            return payloads
        payloads.append(payload)


def seq_of(position: str) -> int:
    return int(position.split("-")[1])


async def test_history_outlives_subscribers_but_does_not_count_as_a_topic() -> None:
    backend = make_backend()
    subscription = backend.subscribe("t")
    first = await backend.publish("t", 0)
    await subscription.aclose()
    await backend.publish("t", 1)
    assert backend.topic_count() == 0
    assert backend.subscriber_count() == 0
    assert drain(backend.subscribe("t", after=first)) == [1]
    assert backend.healthy


async def test_idle_topics_are_forgotten_and_their_old_positions_gone() -> None:
    clock = Clock()
    backend = make_backend(clock, seconds=10)
    old = [await backend.publish(f"idle{n}", n) for n in range(1000)]
    clock.now += 11
    for _ in range(600):  # sweeping is amortised over later calls
        await backend.publish("busy", "x")
    assert len(backend._topics) == 1  # only "busy" is left
    assert backend.retained_count() == 600
    with pytest.raises(HistoryGoneError):
        poll(backend.subscribe("idle0", after=f"{backend.epoch}-0"))
    # A position at or after everything forgotten is safe: nothing of the topic after it was lost.
    assert drain(backend.subscribe("idle5", after=old[-1])) == []
    assert drain(backend.subscribe("idle6", after=f"{backend.epoch}-1500")) == []


async def test_idle_history_is_swept_by_subscribes_too() -> None:
    clock = Clock()
    backend = make_backend(clock, seconds=10)
    for n in range(10):
        await backend.publish(f"idle{n}", n)
    clock.now += 11
    for _ in range(5):
        await backend.subscribe("fresh").aclose()
    assert backend.retained_count() == 0
    assert backend._topics == {}


async def test_a_forgotten_topic_that_comes_back_keeps_its_floor() -> None:
    clock = Clock()
    backend = make_backend(clock, seconds=10)
    first = await backend.publish("t", 0)
    await backend.publish("t", 1)
    clock.now += 11
    await backend.publish("u", "sweeps t away")
    assert "t" not in backend._topics
    live = backend.subscribe("t")  # recreates the topic, with no history of its own
    with pytest.raises(HistoryGoneError):  # event 1 after `first` was lost with the old topic
        poll(backend.subscribe("t", after=first))
    await live.aclose()


async def test_a_subscriber_keeps_its_topic_while_its_history_expires() -> None:
    clock = Clock()
    backend = make_backend(clock, seconds=10)
    subscription = backend.subscribe("t")
    await backend.publish("t", 0)
    clock.now += 11
    await backend.publish("u", 1)
    assert backend.retained_count("t") == 0
    assert backend.topic_count() == 1
    await backend.publish("t", 2)
    assert drain(subscription) == [0, 2]


async def test_close_forgets_all_history() -> None:
    backend = make_backend()
    first = await backend.publish("t", 0)
    await backend.publish("t", 1)
    await backend.close()
    with pytest.raises(HistoryGoneError):
        poll(backend.subscribe("t", after=first))


async def test_an_idempotency_key_publishes_once_within_the_retention() -> None:
    clock = Clock()
    backend = make_backend(clock, seconds=10)
    subscription = backend.subscribe("t")
    first = await backend.publish("t", "once", idempotency_key="order-42")
    assert await backend.publish("t", "once", idempotency_key="order-42") == first
    other = await backend.publish("t", "twice", idempotency_key="order-43")
    elsewhere = await backend.publish("u", "same key, other topic", idempotency_key="order-42")
    assert len({first, other, elsewhere}) == 3
    assert drain(subscription) == ["once", "twice"]
    clock.now += 11  # the key is forgotten with the retention period
    assert await backend.publish("t", "again", idempotency_key="order-42") != first
    assert drain(subscription) == ["again"]


async def test_idempotency_keys_are_forgotten_with_the_retention_period() -> None:
    clock = Clock()
    backend = make_backend(clock, seconds=10)
    for n in range(100):
        await backend.publish("t", n, idempotency_key=f"k{n}")
    clock.now += 11
    await backend.publish("t", "no key")
    assert backend._topics["t"].keys == {}
