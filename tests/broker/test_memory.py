"""The in-memory broker: ordering, fan-out, release, slow consumers, resumable positions and retention."""

import asyncio
import gc
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegql import PubSub, SlowConsumerError
from livegql.broker import subscription_scope
from livegql.broker.memory import MemoryBackend, MemorySubscription
from livegql.broker.retention import Retention
from livegql.core.errors import HistoryGoneError, InvalidPositionError


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


# Resumable positions: the backend itself, driven with a fake clock and without waiting.


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


async def test_positions_increase_per_topic_and_across_topics() -> None:
    backend = make_backend()
    positions = [await backend.publish(topic, n) for n, topic in enumerate("abab")]
    assert all(p.startswith(f"{backend.epoch}-") for p in positions)
    assert [seq_of(p) for p in positions] == [1, 2, 3, 4]


async def test_a_fresh_subscription_starts_at_the_latest_position() -> None:
    backend = make_backend()
    started: list[str] = []
    first = backend.subscribe("t", on_live=started.append)
    assert poll(first) == (False, None)
    assert started == [f"{backend.epoch}-0"]  # nothing published yet
    last = await backend.publish("t", "x")
    second = backend.subscribe("t", on_live=started.append)
    assert poll(second) == (False, None)
    assert started[1] == last
    await backend.publish("t", "y")
    assert drain(second) == ["y"]


async def test_resume_replays_exactly_the_missed_events_then_live_ones() -> None:
    backend = make_backend()
    positions = [await backend.publish("t", n) for n in range(5)]
    await backend.publish("other", "noise")
    resumed = backend.subscribe("t", after=positions[1])
    await backend.publish("t", 5)
    assert drain(resumed) == [2, 3, 4, 5]
    await backend.publish("t", 6)
    assert drain(resumed) == [6]


async def test_resume_at_the_latest_position_gets_only_new_events() -> None:
    backend = make_backend()
    latest = [await backend.publish("t", n) for n in range(3)][-1]
    resumed = backend.subscribe("t", after=latest)
    assert drain(resumed) == []
    await backend.publish("t", "new")
    assert drain(resumed) == ["new"]
    assert resumed.position == f"{backend.epoch}-4"


async def test_resume_past_the_count_retention_is_history_gone_never_a_partial_replay() -> None:
    backend = make_backend(count=3)
    positions = [await backend.publish("t", n) for n in range(5)]  # 0 and 1 trimmed
    assert backend.retained_count("t") == 3
    assert drain(backend.subscribe("t", after=positions[1])) == [2, 3, 4]  # 2..4 all still kept
    gone = backend.subscribe("t", after=positions[0])  # subscribe itself never raises for the position
    with pytest.raises(HistoryGoneError, match=r"'t'.*refetch") as caught:
        poll(gone)
    assert positions[0] in str(caught.value)
    with pytest.raises(StopAsyncIteration):
        poll(gone)


async def test_resume_past_the_age_retention_is_history_gone() -> None:
    clock = Clock()
    backend = make_backend(clock, seconds=10)
    old = await backend.publish("t", "old")
    clock.now += 5
    kept = await backend.publish("t", "kept")
    clock.now += 6  # "old" is 11 s old, "kept" 6 s
    assert drain(backend.subscribe("t", after=old)) == ["kept"]  # only "old" itself is lost: no gap
    before_old = f"{backend.epoch}-0"
    with pytest.raises(HistoryGoneError):
        poll(backend.subscribe("t", after=before_old))
    assert backend.retained_count("t") == 1
    assert seq_of(kept) == 2


async def test_a_position_of_another_backend_is_history_gone() -> None:
    position = await make_backend().publish("t", 1)
    other = make_backend()
    await other.publish("t", 1)
    with pytest.raises(HistoryGoneError, match="another run"):
        poll(other.subscribe("t", after=position))


async def test_a_position_never_handed_out_is_history_gone() -> None:
    backend = make_backend()
    await backend.publish("t", 1)
    with pytest.raises(HistoryGoneError, match="never handed out"):
        poll(backend.subscribe("t", after=f"{backend.epoch}-2"))


@pytest.mark.parametrize(
    "after", ["", "abc", "1-", "-1", "1-2-3", " 1-2", "+1-2", "1_0-2", "1-0x2", "\u0661-\u0662", "9" * 21 + "-1"]
)
async def test_a_malformed_position_is_invalid(after: str) -> None:
    backend = make_backend()
    subscription = backend.subscribe("t", after=after)
    with pytest.raises(InvalidPositionError, match="'t'"):
        poll(subscription)
    assert backend.subscriber_count() == 0


async def test_on_live_is_told_once_before_the_first_event() -> None:
    backend = make_backend()
    first = await backend.publish("t", 0)
    await backend.publish("t", 1)
    calls: list[tuple[str, int]] = []
    resumed = backend.subscribe("t", after=first, on_live=lambda p: calls.append((p, backend.retained_count("t"))))
    assert calls == []  # not at subscribe(): at the first __anext__
    assert await anext(resumed) == 1
    assert calls == [(first, 2)]
    await backend.publish("t", 2)
    assert await anext(resumed) == 2
    assert len(calls) == 1


async def test_on_live_is_not_told_about_a_failed_resume() -> None:
    backend = make_backend()
    calls: list[str] = []
    with pytest.raises(InvalidPositionError):
        poll(backend.subscribe("t", after="nope", on_live=calls.append))
    assert calls == []


async def test_position_follows_what_was_returned() -> None:
    backend = make_backend()
    await backend.publish("t", 0)
    subscription = backend.subscribe("t")
    assert subscription.position is None  # not live yet
    assert poll(subscription) == (False, None)
    assert subscription.position == f"{backend.epoch}-1"
    second = await backend.publish("t", 1)
    assert await anext(subscription) == 1
    assert subscription.position == second
    assert subscription.topic == "t"


async def test_a_replay_larger_than_the_queue_is_a_slow_consumer() -> None:
    backend = make_backend(max_queue=3)
    start = f"{backend.epoch}-0"
    positions = [await backend.publish("t", n) for n in range(4)]
    with pytest.raises(SlowConsumerError):
        poll(backend.subscribe("t", after=start))
    assert drain(backend.subscribe("t", after=positions[0])) == [1, 2, 3]  # exactly max_queue fits


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


async def test_pubsub_resumes_through_the_backend() -> None:
    pubsub = PubSub(retention=Retention(count=10))
    first = await pubsub.publish("t", "a")
    await pubsub.publish("t", "b")
    async with pubsub.subscribe("t", after=first) as resumed:
        assert await anext(resumed) == "b"
        assert resumed.position is not None


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


# The property: whatever the interleaving, a resume gets every event after its position exactly once, in order,
# or HistoryGone; HistoryGone when an event after it was trimmed, and otherwise only when the backend had to
# forget whole expired topics (it then cannot tell, so it is conservative: never a gap).

COUNT, SECONDS = 3, 10.0


@dataclass
class ModelEvent:
    topic: str
    seq: int
    time: float


@dataclass
class ModelSubscriber:
    """A subscription and what the model expects of it (`must_fail`/`may_fail`: of its first `__anext__`)."""

    subscription: MemorySubscription
    topic: str
    start: int
    must_fail: bool
    may_fail: bool
    on_live: list[str]
    received: int = 0
    done: bool = False


class Model:
    """The backend as the spec describes it: every event listed with its time; what is trimmed is computed."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.backend = make_backend(self.clock, count=COUNT, seconds=SECONDS, max_queue=1000)
        self.events: list[ModelEvent] = []
        self.seen = [f"{self.backend.epoch}-0"]  # seen[seq] is the position of event seq
        self.subscribers: list[ModelSubscriber] = []

    def trimmed(self, event: ModelEvent) -> bool:
        newer = sum(1 for e in self.events if e.topic == event.topic and e.seq > event.seq)
        return newer >= COUNT or self.expired(event)

    def expired(self, event: ModelEvent) -> bool:
        return event.time + SECONDS < self.clock.now

    def due(self, subscriber: ModelSubscriber) -> list[int]:
        after = [e.seq for e in self.events if e.topic == subscriber.topic and e.seq > subscriber.start]
        return after[subscriber.received :]

    async def publish(self, topic: str) -> None:
        position = await self.backend.publish(topic, len(self.events) + 1)
        self.events.append(ModelEvent(topic, seq_of(position), self.clock.now))
        assert seq_of(position) == len(self.events)
        self.seen.append(position)

    def subscribe(self, topic: str, pick: int) -> None:
        after = None if pick % 4 == 0 else self.seen[pick % len(self.seen)]
        must_fail = may_fail = False
        start = len(self.events)
        if after is not None:
            start = seq_of(after)
            must_fail = any(e.topic == topic and e.seq > start and self.trimmed(e) for e in self.events)
            forgettable = max((e.seq for e in self.events if self.expired(e)), default=0)
            may_fail = must_fail or start < forgettable
        on_live: list[str] = []
        subscription = self.backend.subscribe(topic, after=after, on_live=on_live.append)
        self.subscribers.append(ModelSubscriber(subscription, topic, start, must_fail, may_fail, on_live))

    def consume(self, subscriber: ModelSubscriber) -> bool:
        """Take the next event if the model says one is due (and check it); True if one was taken."""
        first = not subscriber.on_live
        try:
            ready, payload = poll(subscriber.subscription)
        except HistoryGoneError:
            assert first
            assert subscriber.may_fail
            assert subscriber.on_live == []
            subscriber.done = True
            return False
        assert not subscriber.must_fail
        assert subscriber.on_live == [f"{self.backend.epoch}-{subscriber.start}"]
        due = self.due(subscriber)
        if not due:
            assert not ready
            if subscriber.received == 0:
                assert subscriber.subscription.position == subscriber.on_live[0]
            return False
        assert ready
        assert payload == due[0]
        assert subscriber.subscription.position == self.seen[payload]
        subscriber.received += 1
        return True


ACTIONS = ["publish", "publish", "subscribe", "subscribe", "consume", "consume", "close", "close", "advance"]
Step = tuple[str, str, int]  # (action, topic, a number that picks the position, subscriber or time step)


async def run_model(steps: list[Step]) -> None:
    model = Model()
    for action, topic, pick in steps:
        active = [s for s in model.subscribers if not s.done]
        if action == "publish":
            await model.publish(topic)
        elif action == "subscribe":
            model.subscribe(topic, pick)
        elif action == "advance":
            model.clock.now += (1.0, 3.0, 6.0, 11.0)[pick % 4]
        elif active:
            subscriber = active[pick % len(active)]
            if action == "consume":
                model.consume(subscriber)
            else:
                await subscriber.subscription.aclose()
                subscriber.done = True
    for subscriber in model.subscribers:
        while not subscriber.done and model.consume(subscriber):
            pass
        await subscriber.subscription.aclose()
    assert model.backend.subscriber_count() == 0
    assert model.backend.topic_count() == 0


steps = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.sampled_from("ab"), st.integers(0, 999)), min_size=20, max_size=100
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_resumes_agree_with_a_model(steps: list[Step]) -> None:
    asyncio.run(run_model(steps))
