"""LiveQueryHub on the test's own loop: coalescing, the rate cap, invalidations during an execution, sharing,
a broker overflow and cleanup. Watchers are recording sinks joined straight to `app.live`."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from livegql import LiveGQL, PubSub
from livegql.broker import INVALIDATION_TOPIC
from livegql.core import json
from livegql.engine.operations import operation_key
from livegql.engine.revision import Revision
from tests.support.live_helpers import COUNTER, MESSAGES, Store, make_app
from tests.support.waiting import until

LIMIT = 5.0
SLOW = "query @live { slow }"


class Watcher:
    """A LiveSink that records what the hub pushes and lets the test wait for it (bounded)."""

    def __init__(self) -> None:
        self.revisions: list[Revision] = []
        self.failures: list[str] = []
        self._changed = asyncio.Event()

    def push_revision(self, revision: Revision) -> None:
        self.revisions.append(revision)
        self._changed.set()

    def fail(self, errors_json: str) -> None:
        self.failures.append(errors_json)
        self._changed.set()

    async def result(self, number: int) -> Any:
        """The decoded result of revision `number`, once it has been pushed."""
        async with asyncio.timeout(LIMIT):
            while len(self.revisions) < number:
                self._changed.clear()
                await self._changed.wait()
        revision = self.revisions[number - 1]
        assert revision.number == number
        return json.loads(revision.full)


def watch(app: LiveGQL, query: str, variables: dict[str, Any] | None = None) -> tuple[Watcher, Callable[[], None]]:
    prepared = app.runtime.executor.prepare(query)
    watcher = Watcher()
    leave = app.live.join(operation_key(prepared, variables, "everyone"), prepared, variables, {}, watcher)
    return watcher, leave


@asynccontextmanager
async def running(app: LiveGQL) -> AsyncIterator[LiveGQL]:
    try:
        yield app
    finally:
        await app.close()


@pytest.fixture
def store() -> Store:
    return Store()


async def _entered(store: Store, count: int) -> bool:
    return store.entered == count


def bump(store: Store) -> None:
    store.counter += 1


async def test_a_burst_within_the_window_runs_once(store: Store) -> None:
    async with running(make_app(store, live_coalesce_window=0.25)) as app:
        watcher, _ = watch(app, COUNTER)
        assert await watcher.result(1) == {"data": {"counter": 0}}
        for _ in range(20):
            bump(store)
            await app.invalidate("Query.counter")
            await asyncio.sleep(0)  # a yield, not a wait: the listener takes each invalidation on its own
        assert app.live.executions == 1  # the window (0.25 s) is still open: microseconds have passed
        assert await watcher.result(2) == {"data": {"counter": 20}}
        assert app.live.executions == 2
        bump(store)
        await app.invalidate("Query.counter")
        assert await watcher.result(3) == {"data": {"counter": 21}}
        assert app.live.executions == 3  # the burst left no second run behind
        assert len(store.stamps) == 3


async def test_the_rate_cap_spaces_executions(store: Store) -> None:
    interval = 0.25
    options: dict[str, Any] = {"live_coalesce_window": 0.0, "live_max_executions_per_second": 1 / interval}
    async with running(make_app(store, **options)) as app:
        watcher, _ = watch(app, COUNTER)
        await watcher.result(1)
        for number in (2, 3, 4):
            for _ in range(5):  # right after the last run: each burst must wait out the interval
                bump(store)
                await app.invalidate("Query.counter")
                await asyncio.sleep(0)
            assert await watcher.result(number) == {"data": {"counter": store.counter}}
        assert app.live.executions == len(store.stamps) == 4
        gaps = [later - earlier for earlier, later in zip(store.stamps, store.stamps[1:], strict=False)]
        assert min(gaps) >= interval - 0.01, gaps


async def test_an_invalidation_during_the_first_execution_is_not_lost(store: Store) -> None:
    store.gate = asyncio.Event()
    async with running(make_app(store)) as app:
        probe, _ = watch(app, COUNTER)
        await probe.result(1)
        slow, _ = watch(app, SLOW)

        await until(lambda: _entered(store, 1), what="the first execution to block")
        store.counter = 1  # the blocked execution read 0 already; its keys are not known yet
        await app.invalidate("Query.slow", "Query.counter")
        assert await probe.result(2) == {"data": {"counter": 1}}  # the hub has taken the invalidation
        store.gate.set()
        assert await slow.result(1) == {"data": {"slow": 0}}
        assert await slow.result(2) == {"data": {"slow": 1}}


async def test_an_invalidation_during_a_re_execution_runs_it_again(store: Store) -> None:
    async with running(make_app(store)) as app:
        probe, _ = watch(app, COUNTER)
        slow, _ = watch(app, SLOW)
        assert await slow.result(1) == {"data": {"slow": 0}}
        await probe.result(1)
        store.gate = gate = asyncio.Event()
        store.counter = 1
        await app.invalidate("Query.slow")

        await until(lambda: _entered(store, 2), what="the re-execution to block")
        store.counter = 2
        await app.invalidate("Query.slow", "Query.counter")
        assert await probe.result(2) == {"data": {"counter": 2}}  # the hub has taken the invalidation
        gate.set()
        assert await slow.result(2) == {"data": {"slow": 1}}
        assert await slow.result(3) == {"data": {"slow": 2}}


async def test_watchers_share_one_execution_and_a_late_one_gets_the_current_result(store: Store) -> None:
    store.gate = asyncio.Event()
    async with running(make_app(store)) as app:
        first, _ = watch(app, SLOW)
        await until(lambda: _entered(store, 1), what="the first execution to block")
        second, _ = watch(app, SLOW)  # joins while the first execution is still running
        assert second.revisions == []
        store.gate.set()
        assert await first.result(1) == await second.result(1) == {"data": {"slow": 0}}
        late, _ = watch(app, SLOW)
        assert late.revisions == first.revisions  # pushed within join, from the shared query
        assert (app.live.executions, app.live.query_count) == (1, 1)
        other, _ = watch(app, MESSAGES, {"room": "general"})
        await other.result(1)
        assert (app.live.executions, app.live.query_count) == (2, 2)


async def test_a_broker_overflow_re_executes_every_live_query(store: Store) -> None:
    pubsub = PubSub(max_queue=2)
    async with running(make_app(store, pubsub=pubsub)) as app:
        counter, _ = watch(app, COUNTER)
        messages, _ = watch(app, MESSAGES, {"room": "general"})
        await counter.result(1)
        await messages.result(1)
        store.counter = 1
        store.post("general", "2", "yo")
        for _ in range(5):  # without a yield: the listener falls more than max_queue behind
            await pubsub.invalidate("Unrelated:1")
        assert await counter.result(2) == {"data": {"counter": 1}}
        assert (await messages.result(2))["data"]["messages"][-1] == {"id": "2", "text": "yo"}
        assert pubsub.subscriber_count(INVALIDATION_TOPIC) == 1  # listening again
        store.counter = 2
        await app.invalidate("Query.counter")
        assert await counter.result(3) == {"data": {"counter": 2}}


async def test_the_last_watcher_leaving_drops_the_query_and_the_listener(store: Store) -> None:
    store.gate = asyncio.Event()
    async with running(make_app(store)) as app:
        first, leave_first = watch(app, COUNTER)
        second, leave_second = watch(app, COUNTER)
        blocked, leave_blocked = watch(app, SLOW)
        await first.result(1)
        await until(lambda: _entered(store, 1), what="the slow execution to block")
        assert app.pubsub.subscriber_count(INVALIDATION_TOPIC) == 1
        leave_first()
        assert app.live.query_count == 2
        leave_second()
        leave_blocked()  # its execution is still running: cancelled
        assert app.live.query_count == 0

        async def released() -> bool:
            return app.pubsub.subscriber_count(INVALIDATION_TOPIC) == 0

        await until(released, what="the broker listener to unsubscribe")
        store.gate.set()
        bump(store)
        await app.invalidate("Query.counter", "Query.slow")
        again, _ = watch(app, COUNTER)  # a fresh query, with a fresh listener
        assert await again.result(1) == {"data": {"counter": 1}}
        assert len(second.revisions) == 1
        assert blocked.revisions == []


async def test_a_malformed_invalidation_is_ignored_and_the_listener_keeps_listening(store: Store) -> None:
    """Only `PubSub.invalidate` may write the reserved topic, but a payload that is not a list of keys (from a
    writer that bypassed it) must not stop every live query from updating."""
    async with running(make_app(store)) as app:
        counter, _ = watch(app, COUNTER)
        await counter.result(1)
        for malformed in (5, {"keys": "Query.counter"}, ["Query.counter", 7]):
            await app.pubsub.backend.publish(INVALIDATION_TOPIC, malformed)
        store.counter = 1
        await app.invalidate("Query.counter")
        assert await counter.result(2) == {"data": {"counter": 1}}
        assert app.pubsub.subscriber_count(INVALIDATION_TOPIC) == 1
