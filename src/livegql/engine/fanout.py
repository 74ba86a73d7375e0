"""The subscription hub: subscribers of one `OperationKey` share one source stream and one execution per event.

Each event's result is encoded once; every sink receives the same string and wraps it in its own frame. The
source starts with the first subscriber of a key and stops when the last one leaves. Sinks never block the
hub: `push` must return at once (a slow consumer is the sink's problem, decided by its own policy).
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from graphql import ExecutionResult, GraphQLError

from livegql.broker import subscription_scope
from livegql.engine.executor import BoundOperation, Executor
from livegql.engine.operations import OperationKey
from livegql.engine.results import ResultEncoder

logger = logging.getLogger("livegql.fanout")

Leave = Callable[[], None]
"""Returned by `join`: call it once the subscriber is gone (completed, disconnected, closed)."""


class StreamSink(Protocol):
    """One subscriber's end of a shared stream. Every method must return without awaiting."""

    def push(self, payload_json: str) -> None:
        """An event's encoded execution result."""

    def fail(self, errors_json: str) -> None:
        """The stream ended with errors (an encoded array of GraphQL errors); nothing follows."""

    def finish(self) -> None:
        """The source ended normally; nothing follows."""


class _Stream:
    __slots__ = ("key", "members", "task")

    def __init__(self, key: OperationKey) -> None:
        self.key = key
        self.members: dict[int, StreamSink] = {}  # insertion-ordered: delivery order is join order
        self.task: asyncio.Task[None] | None = None


class SubscriptionHub:
    """Owns one task per distinct running subscription; `close()` ends them all."""

    def __init__(self, executor: Executor, encoder: ResultEncoder) -> None:
        self._executor = executor
        self._encoder = encoder
        self._streams: dict[OperationKey, _Stream] = {}
        self.executions = 0
        """Subscription results computed so far (one per event per distinct operation): for tests and metrics."""

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    def join(self, key: OperationKey, bound: BoundOperation, context: Any, sink: StreamSink) -> Leave:
        """Add `sink` to the stream of `key`, starting it (with this caller's context) if it is the first."""
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream(key)
            stream.task = asyncio.get_running_loop().create_task(self._pump(stream, bound, context))
        stream.members[id(sink)] = sink
        return lambda: self._leave(stream, sink)

    def _leave(self, stream: _Stream, sink: StreamSink) -> None:
        if stream.members.pop(id(sink), None) is None or stream.members:
            return
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]
        if stream.task is not None:
            stream.task.cancel()

    async def _pump(self, stream: _Stream, bound: BoundOperation, context: Any) -> None:
        try:
            async with subscription_scope():
                source = await self._executor.subscribe(bound, context)
                if isinstance(source, ExecutionResult):
                    self._end(stream, self._encoder.encode_errors(source.errors or []))
                    return
                await self._relay(stream, source)
            self._end(stream, None)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # The app's event source failed mid-stream: its subscribers get an error, the sockets stay open.
            self._end(stream, self._encoder.encode_errors([GraphQLError(str(error), original_error=error)]))

    async def _relay(self, stream: _Stream, source: AsyncIterator[ExecutionResult]) -> None:
        encode = self._encoder.encode_result
        members = stream.members
        try:
            async for result in source:
                self.executions += 1
                payload = encode(result)
                for sink in tuple(members.values()):
                    sink.push(payload)
                # A burst of queued events would otherwise be relayed without a pause, filling every queue
                # before any writer ran: yield once per event so the writers keep pace.
                await asyncio.sleep(0)
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()

    def _end(self, stream: _Stream, errors_json: str | None) -> None:
        """Tell every member the stream is over; from here `leave` is a no-op for them."""
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]
        members = tuple(stream.members.values())
        stream.members.clear()
        for sink in members:
            if errors_json is None:
                sink.finish()
            else:
                sink.fail(errors_json)

    async def close(self) -> None:
        """Stop every stream (application shutdown); members are told the stream finished."""
        streams = tuple(self._streams.values())
        for stream in streams:
            if stream.task is not None:
                stream.task.cancel()
            self._end(stream, None)
        tasks = [stream.task for stream in streams if stream.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
