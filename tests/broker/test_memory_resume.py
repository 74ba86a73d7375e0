"""The in-memory broker's resumable positions: replay after a position, on_live, history gone."""

import pytest

from livegql import PubSub, SlowConsumerError
from livegql.broker.retention import Retention
from livegql.core.errors import HistoryGoneError, InvalidPositionError
from tests.broker.test_memory import Clock, drain, make_backend, poll, seq_of


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


async def test_pubsub_resumes_through_the_backend() -> None:
    pubsub = PubSub(retention=Retention(count=10))
    first = await pubsub.publish("t", "a")
    await pubsub.publish("t", "b")
    async with pubsub.subscribe("t", after=first) as resumed:
        assert await anext(resumed) == "b"
        assert resumed.position is not None
