"""Live queries: one shared execution per distinct `@live` query, re-run when a resource key it read is invalidated.

Invalidations arrive through the broker (`PubSub.invalidate`), so they cross processes wherever the broker does.
A burst within `window` seconds causes one re-execution, and a query re-runs at most `max_rate` times a second;
a new result is pushed only when its encoding changed.
"""

import asyncio
import logging
from collections.abc import Iterable
from time import perf_counter
from typing import Any, Protocol

from graphql import GraphQLError

from livegql.broker import INVALIDATION_TOPIC, PubSub, Subscription
from livegql.core.errors import SlowConsumerError
from livegql.engine.executor import Executor, PreparedOperation
from livegql.engine.fanout import Leave
from livegql.engine.keys import RESOURCE_KEYS, KeyCollector
from livegql.engine.operations import OperationKey
from livegql.engine.results import ResultEncoder
from livegql.engine.revision import Revision

logger = logging.getLogger("livegql.live")


class LiveSink(Protocol):
    """One watcher of a live query. Every method must return without awaiting."""

    def push_revision(self, revision: Revision) -> None:
        """A new result (the first one included)."""

    def fail(self, errors_json: str) -> None:
        """The live query cannot go on (encoded GraphQL errors); nothing follows."""


class _LiveQuery:
    __slots__ = (
        "context",
        "heard",
        "key",
        "keys",
        "last_started",
        "members",
        "prepared",
        "revision",
        "seen",
        "stale",
        "task",
        "timer",
        "variables",
    )

    def __init__(self, key: OperationKey, prepared: PreparedOperation, variables: Any, context: Any) -> None:
        self.key = key
        self.prepared = prepared
        self.variables = variables
        self.context = context
        self.members: dict[int, LiveSink] = {}
        self.keys: frozenset[str] = frozenset()
        self.revision: Revision | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.seen: set[str] | None = None  # keys invalidated while an execution runs (its keys are unknown yet)
        self.stale = False
        self.last_started = float("-inf")
        self.heard = False  # its latest execution began while the hub was hearing invalidations


class LiveQueryHub:
    """Owns the live queries' executions, their timers and the one broker subscription for invalidations."""

    def __init__(
        self, executor: Executor, encoder: ResultEncoder, pubsub: PubSub, *, window: float, max_rate: float
    ) -> None:
        self._executor = executor
        self._encoder = encoder
        self._pubsub = pubsub
        self._window = window
        self._min_interval = 1.0 / max_rate
        self._queries: dict[OperationKey, _LiveQuery] = {}
        self._index: dict[str, set[_LiveQuery]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._hearing = False  # the listener's broker subscription is live: no invalidation can be missed
        self.executions = 0
        """Live-query executions so far, however many watchers shared each one: for tests and metrics."""
        self.watchers = 0
        """Members of every live query right now (one per live operation of a client): for metrics."""

    @property
    def query_count(self) -> int:
        return len(self._queries)

    def join(
        self, key: OperationKey, prepared: PreparedOperation, variables: Any, context: Any, sink: LiveSink
    ) -> Leave:
        """Watch the live query of `key`; the current result (or the first, once computed) is pushed to `sink`."""
        query = self._queries.get(key)
        if query is None:
            self._ensure_listener()
            query = self._queries[key] = _LiveQuery(key, prepared, variables, context)
            self._start(query)
        query.members[id(sink)] = sink
        self.watchers += 1
        if query.revision is not None:
            sink.push_revision(query.revision)
        return lambda: self._leave(query, sink)

    def _leave(self, query: _LiveQuery, sink: LiveSink) -> None:
        if query.members.pop(id(sink), None) is None:
            return
        self.watchers -= 1
        if not query.members:
            self._drop(query)

    def _drop(self, query: _LiveQuery) -> None:
        if self._queries.get(query.key) is query:
            del self._queries[query.key]
        self._reindex(query, frozenset())
        if query.timer is not None:
            query.timer.cancel()
        if query.task is not None and query.task is not asyncio.current_task():
            query.task.cancel()
        if not self._queries and self._listener is not None:
            self._listener.cancel()
            self._listener = None

    def invalidate_local(self, keys: Iterable[str]) -> None:
        """Mark every live query that read one of `keys` stale (called for invalidations from the broker)."""
        keys = list(keys)
        for query in self._queries.values():
            if query.seen is not None:
                query.seen.update(keys)
        for key in keys:
            for query in tuple(self._index.get(key, ())):
                self._schedule(query)

    def _schedule(self, query: _LiveQuery) -> None:
        if query.task is not None:
            query.stale = True  # re-run once the running execution is done
        elif query.timer is None:
            loop = asyncio.get_running_loop()
            delay = max(self._window, query.last_started + self._min_interval - loop.time())
            query.timer = loop.call_later(delay, self._start, query)

    def _start(self, query: _LiveQuery) -> None:
        query.timer = None
        query.task = asyncio.get_running_loop().create_task(self._run(query))

    async def _run(self, query: _LiveQuery) -> None:
        query.last_started = asyncio.get_running_loop().time()
        query.seen, query.stale, query.heard = set(), False, self._hearing
        self.executions += 1
        keys: set[str] = set()
        context = {**query.context, RESOURCE_KEYS: keys}
        try:
            collector = KeyCollector(self._executor.schema, keys)
            started = perf_counter()
            result = await self._executor.execute(query.prepared, query.variables, context, middleware=[collector])
            self._executor.stats.live.observe(perf_counter() - started)
            payload = self._encoder.encode_result(result)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # A bug below graphql-core's error handling, or a value no JSON encoder takes: the watchers are told.
            logger.exception("Live query execution failed")
            self._fail(query, self._encoder.encode_errors([GraphQLError(str(error), original_error=error)]))
            return
        query.task = None
        seen, query.seen = query.seen, None
        self._reindex(query, frozenset(keys))
        if query.revision is None or payload != query.revision.full:
            query.revision = Revision.after(query.revision, payload, result.data, bool(result.errors))
            for sink in tuple(query.members.values()):
                sink.push_revision(query.revision)
        if query.stale or not seen.isdisjoint(keys):
            self._schedule(query)

    def _fail(self, query: _LiveQuery, errors_json: str) -> None:
        members = tuple(query.members.values())
        query.members.clear()
        self.watchers -= len(members)
        self._drop(query)
        for sink in members:
            sink.fail(errors_json)

    def _reindex(self, query: _LiveQuery, keys: frozenset[str]) -> None:
        for key in query.keys - keys:
            watchers = self._index.get(key)
            if watchers is not None:
                watchers.discard(query)
                if not watchers:
                    del self._index[key]
        for key in keys - query.keys:
            self._index.setdefault(key, set()).add(query)
        query.keys = keys

    def _ensure_listener(self) -> None:
        if self._listener is None:
            self._hearing = False
            subscription = self._pubsub.backend.subscribe(INVALIDATION_TOPIC, on_live=self._went_live)
            self._listener = asyncio.get_running_loop().create_task(self._listen(subscription))

    def _went_live(self, _position: str) -> None:
        """The invalidation subscription is registered with the broker (at once in memory, after a round trip
        with Redis). A query whose execution began before then may have missed a change: it runs again, so
        the first result is never held up by the broker and never left stale by it."""
        self._hearing = True
        for query in tuple(self._queries.values()):
            if not query.heard and (query.task is not None or query.revision is not None):
                self._schedule(query)

    async def _listen(self, subscription: Subscription) -> None:
        try:
            async with subscription:
                async for keys in subscription:
                    if isinstance(keys, list) and all(isinstance(key, str) for key in keys):
                        self.invalidate_local(keys)
                    else:  # not from PubSub.invalidate (which refuses anything else): never stop listening for it
                        logger.warning("Ignoring a malformed invalidation: %.200r", keys)
        except SlowConsumerError:
            # Invalidations were lost: which queries they named is unknown, so every query re-runs.
            logger.warning("Live-query invalidations overflowed; re-executing every live query")
            self._listener = None
            if self._queries:
                self._ensure_listener()
            for query in tuple(self._queries.values()):
                self._schedule(query)

    async def close(self) -> None:
        """Stop every live query (application shutdown)."""
        tasks = [query.task for query in self._queries.values() if query.task is not None]
        for query in tuple(self._queries.values()):
            self.watchers -= len(query.members)
            query.members.clear()
            self._drop(query)
        if self._listener is not None:
            tasks.append(self._listener)
            self._listener.cancel()
            self._listener = None
        await asyncio.gather(*tasks, return_exceptions=True)
