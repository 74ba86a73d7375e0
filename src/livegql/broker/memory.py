"""In-process broker: bounded per-subscriber queues, and per-topic history so a subscriber can resume.

Positions read "<epoch>-<seq>": the epoch changes with every backend (history dies with it, so older positions
must not match) and seq counts events of the whole backend, so positions also compare across its topics.
The subscriber side (`MemorySubscription`, its queue and iteration) is in memory_subscription.
"""

import re
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, ClassVar

from livegql.broker.base import OnLive
from livegql.broker.memory_subscription import Entry, MemorySubscription
from livegql.broker.retention import Retention
from livegql.core.errors import HistoryGoneError, InvalidPositionError, LiveGQLError, SlowConsumerError

__all__ = ["DEFAULT_MAX_QUEUE", "MemoryBackend", "MemorySubscription"]  # the subscription lives in memory_subscription

DEFAULT_MAX_QUEUE = 10_000

_SWEEP_STEPS = 2
"""Expired topics a publish or subscribe clears at most: each publish makes at most one topic hold history,
so two per call keep idle history bounded by the retention without a background task."""

_POSITION = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")  # 20 digits: the 64-bit ids other brokers hand out


class _Topic:
    """What the backend keeps for one topic: retained events, how far they were trimmed, live subscribers."""

    __slots__ = ("events", "floor", "keys", "name", "subscribers")

    def __init__(self, name: str, floor: int) -> None:
        self.name = name
        # Idempotency key -> (seq, clock time) of the publish that used it, oldest first; None until one is used.
        self.keys: dict[str, tuple[int, float]] | None = None
        self.events: deque[Entry] = deque()
        # Greatest seq that may have been trimmed from this topic: resuming before it would leave a gap.
        self.floor = floor
        # Weak references: a subscription nobody can read from any more must be collectable (then __del__
        # unregisters it); a plain dict iterates faster than a WeakValueDictionary on the publish path.
        self.subscribers: dict[int, weakref.ref[MemorySubscription]] = {}


class MemoryBackend:
    """Topics with subscribers or retained history; a topic with neither disappears.

    Topics holding history sit in an OrderedDict by last publish, so the one whose history expires first is
    always at its front: a cheap look there on each publish and subscribe is all the idle sweeping needed.
    """

    _last_epoch: ClassVar[int] = 0

    def __init__(
        self,
        max_queue: int = DEFAULT_MAX_QUEUE,
        retention: Retention | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_queue <= 0:
            raise ValueError("max_queue must be positive")
        self.max_queue = max_queue
        self.retention = retention or Retention()
        self._count = self.retention.count
        self._seconds = self.retention.seconds
        self._clock = clock
        # Milliseconds at creation, bumped if needed so that two backends of one process never share an epoch.
        self.epoch = max(int(time.time() * 1000), MemoryBackend._last_epoch + 1)
        MemoryBackend._last_epoch = self.epoch
        self._prefix = f"{self.epoch}-"
        self._seq = 0
        # Greatest seq dropped along with a whole topic: the floor for topics the backend no longer knows.
        self._forgotten = 0
        self._topics: dict[str, _Topic] = {}
        self._history: OrderedDict[str, _Topic] = OrderedDict()
        self._sweep_after = float("-inf")  # no topic's history can expire before this clock time
        self._newest: _Topic | None = None  # the last topic in `_history`, if known

    async def check(self) -> bool:
        return True

    @property
    def healthy(self) -> bool:
        return True

    async def publish(self, topic: str, payload: Any, *, idempotency_key: str | None = None) -> str:
        """Append `payload` to `topic`'s history and hand it to its subscribers; return its position.

        A publish repeating the `idempotency_key` of one accepted within the retention period is not added
        again: the position of the first is returned.
        """
        now = self._clock()
        state = self._topics.get(topic)
        if state is None:
            state = self._topics[topic] = _Topic(topic, self._forgotten)
        elif idempotency_key is not None and state.keys:
            known = self._purge_keys(state, now).get(idempotency_key)
            if known is not None:
                return self._prefix + str(known[0])
        self._seq = seq = self._seq + 1
        entry = (seq, payload, now)
        events = state.events
        events.append(entry)
        if len(events) > self._count:
            state.floor = events.popleft()[0]
        if events[0][2] + self._seconds < now:
            self._trim(state, now)
        if idempotency_key is not None or state.keys:
            self._remember(state, idempotency_key, seq, now)
        if state is not self._newest:  # a run of publishes to one topic skips reordering the sweep
            self._history[topic] = self._newest = state
            self._history.move_to_end(topic)
        if state.subscribers:
            for ref in tuple(state.subscribers.values()):
                subscription = ref()
                if subscription is not None:
                    subscription.deliver(entry)
        if now > self._sweep_after:
            self._sweep(now)
        return self._prefix + str(seq)

    def _remember(self, state: _Topic, key: str | None, seq: int, now: float) -> None:
        keys = self._purge_keys(state, now)
        if key is not None:
            keys[key] = (seq, now)
            state.keys = keys

    def _purge_keys(self, state: _Topic, now: float) -> dict[str, tuple[int, float]]:
        """Forget the topic's idempotency keys older than the retention period (the oldest come first)."""
        keys, horizon = state.keys if state.keys is not None else {}, now - self._seconds
        while keys and next(iter(keys.values()))[1] < horizon:
            del keys[next(iter(keys))]
        return keys

    def subscribe(self, topic: str, *, after: str | None = None, on_live: OnLive | None = None) -> MemorySubscription:
        """Register a subscriber now; with `after`, its queue starts with the retained events after it.

        A fresh subscriber starts at the backend's latest position rather than the topic's: no event of the
        topic lies between the two, and it never falls below `_forgotten`, so a later resume from it is not
        refused just because other topics were forgotten meanwhile.
        """
        now = self._clock()
        if now > self._sweep_after:
            self._sweep(now)
        start, replay = self._seq, list[Entry]()
        if after is not None:
            try:
                start, replay = self._replay(topic, after, now)
            except LiveGQLError as error:
                # Raised by the first __anext__, where a networked broker would find out too.
                return MemorySubscription(self, topic, start, error=error)
        subscription = MemorySubscription(self, topic, start, on_live=on_live, replay=replay)
        state = self._topics.get(topic)
        if state is None:
            state = self._topics[topic] = _Topic(topic, self._forgotten)
        state.subscribers[id(subscription)] = weakref.ref(subscription)
        return subscription

    def _replay(self, topic: str, after: str, now: float) -> tuple[int, list[Entry]]:
        """The seq of `after` and the retained events of `topic` after it; raises if that is not all of them."""
        match = _POSITION.fullmatch(after) if isinstance(after, str) else None
        if match is None:
            raise InvalidPositionError(
                f"cannot resume {topic!r} after {after!r}: not a position of this broker ('<epoch>-<sequence>');"
                " subscribe without one and refetch the current state"
            )
        epoch, seq = int(match[1]), int(match[2])
        if epoch != self.epoch or seq > self._seq:
            why = "it is from another run of the broker" if epoch != self.epoch else "it was never handed out"
            raise HistoryGoneError(f"cannot resume {topic!r} after {after!r}: {why}; refetch the current state")
        state = self._topics.get(topic)
        floor, events = self._forgotten, deque[Entry]()
        if state is not None:
            self._trim(state, now)
            floor, events = state.floor, state.events
        if seq < floor:
            raise HistoryGoneError(
                f"cannot resume {topic!r} after {after!r}: events after it are no longer retained;"
                " refetch the current state"
            )
        replay: list[Entry] = []
        for entry in reversed(events):
            if entry[0] <= seq:
                break
            replay.append(entry)
            if len(replay) > self.max_queue:
                raise SlowConsumerError(
                    f"cannot resume {topic!r} after {after!r}: more than {self.max_queue} events to replay"
                )
        replay.reverse()
        return seq, replay

    def _trim(self, state: _Topic, now: float) -> None:
        """Drop a topic's expired events (a prefix: times only grow), forgetting the topic if nothing is left."""
        events, horizon = state.events, now - self._seconds
        while events and events[0][2] < horizon:
            state.floor = events.popleft()[0]
        if not events:
            self._forget_history(state)

    def _sweep(self, now: float) -> None:
        """Clear the history of the topics published longest ago while it has expired entirely."""
        history = self._history
        for _ in range(_SWEEP_STEPS):
            if not history:
                self._sweep_after = now + self._seconds  # anything published from now on lives at least that long
                return
            state = next(iter(history.values()))
            newest = state.events[-1][2]
            if newest >= now - self._seconds:
                self._sweep_after = newest + self._seconds
                return
            state.floor = state.events[-1][0]
            state.events.clear()
            self._forget_history(state)
        # More may have expired: leave _sweep_after in the past so the next call goes on.

    def _forget_history(self, state: _Topic) -> None:
        """`state`'s events are gone: unlist it from the history, and drop it if nobody subscribes either."""
        self._history.pop(state.name, None)
        if state is self._newest:
            self._newest = None
        state.keys = None  # none can be newer than the events, which all expired
        if not state.subscribers:
            self._drop(state)

    def unregister(self, subscription: MemorySubscription) -> None:
        state = self._topics.get(subscription.topic)
        if state is None:
            return
        state.subscribers.pop(id(subscription), None)
        if not state.subscribers and not state.events:
            self._drop(state)

    def _drop(self, state: _Topic) -> None:
        del self._topics[state.name]
        self._forgotten = max(self._forgotten, state.floor)

    def subscriber_count(self, topic: str | None = None) -> int:
        if topic is not None:
            state = self._topics.get(topic)
            return len(state.subscribers) if state is not None else 0
        return sum(len(state.subscribers) for state in self._topics.values())

    def topic_count(self) -> int:
        return sum(1 for state in self._topics.values() if state.subscribers)

    def retained_count(self, topic: str | None = None) -> int:
        """Events kept for resuming subscribers, of `topic` or of every topic."""
        if topic is not None:
            state = self._topics.get(topic)
            return len(state.events) if state is not None else 0
        return sum(len(state.events) for state in self._history.values())

    async def close(self) -> None:
        for state in tuple(self._topics.values()):
            for ref in tuple(state.subscribers.values()):
                subscription = ref()
                if subscription is not None:
                    await subscription.aclose()
        # History dies with the broker: no later resume may pass over what it held.
        self._forgotten = self._seq
        self._topics.clear()
        self._history.clear()
        self._newest = None
