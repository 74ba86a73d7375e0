"""The in-memory broker against a model of its retention: any interleaving resumes without a gap."""

import asyncio
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from livegql.broker.memory import MemorySubscription
from livegql.core.errors import HistoryGoneError
from tests.broker.test_memory import Clock, make_backend, poll, seq_of

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
