"""The subscription hub: subscribers of one `OperationKey` share one source stream and one execution per event.

Each event's result is encoded once, with the event's broker position in its `extensions`; every sink receives
the same string and wraps it in its own frame. The source starts with the first subscriber of a key and stops
when the last one leaves. Sinks never block the hub: `push` must return at once (a slow consumer is the sink's
problem, decided by its own policy). A subscriber that asks is acknowledged once the source is live.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Any, Protocol

from graphql import ExecutionResult, GraphQLError

from livegql.broker import subscription_scope
from livegql.broker.scope import Scope
from livegql.core import json
from livegql.engine.event_gate import AuthorizeEvent, EventGate, Viewer
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

    def acknowledge(self, payload_json: str) -> None:
        """The stream is live: every event after the position in this payload will be pushed. Sent once,
        before any event, to a subscriber that asked for it."""


def acknowledgement(position: str | None) -> str:
    """The payload of the `next` that tells a subscriber its subscription is live, and where it starts."""
    return '{"extensions":{"subscribed":true,"position":' + json.dumps(position) + "}}"


class _Stream:
    __slots__ = ("awaiting", "key", "live", "members", "scope", "task", "viewers")

    def __init__(self, key: OperationKey) -> None:
        self.key = key
        self.members: dict[int, StreamSink] = {}  # insertion-ordered: delivery order is join order
        self.viewers: dict[int, Viewer] = {}  # who each member is, when the app authorises every event
        self.awaiting: dict[int, StreamSink] = {}  # members owed an acknowledgement
        self.live = False
        self.scope: Scope | None = None
        self.task: asyncio.Task[None] | None = None

    def went_live(self, position: str | None) -> None:
        """The broker registered the source's subscription (the first one, if it reads several topics)."""
        self.live = True
        if self.awaiting:
            payload = acknowledgement(position)
            awaiting = tuple(self.awaiting.values())
            self.awaiting.clear()
            for sink in awaiting:
                sink.acknowledge(payload)

    @property
    def position(self) -> str | None:
        return self.scope.position if self.scope is not None else None


class SubscriptionHub:
    """Owns one task per distinct running subscription; `close()` ends them all."""

    def __init__(self, executor: Executor, encoder: ResultEncoder, authorize: AuthorizeEvent | None = None) -> None:
        self._executor = executor
        self._encoder = encoder
        self.gate = EventGate(authorize) if authorize is not None else None
        """The app's per-event authorization, if any: members then join with a `Viewer`."""
        self._streams: dict[OperationKey, _Stream] = {}
        self.executions = 0
        """Subscription results computed so far (one per event per distinct operation): for tests and metrics."""
        self.subscribers = 0
        """Members of every stream right now (one per subscribed operation of a client): for metrics."""

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    def join(
        self,
        key: OperationKey,
        bound: BoundOperation,
        context: Any,
        sink: StreamSink,
        *,
        acknowledge: bool = False,
        viewer: Viewer | None = None,
    ) -> Leave:
        """Add `sink` to the stream of `key`, starting it (with this caller's context) if it is the first.

        With `acknowledge`, the sink is told once the stream is live (at once, if it already is), with the
        position after which it receives every event.
        """
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream(key)
            stream.task = asyncio.get_running_loop().create_task(self._pump(stream, bound, context))
        stream.members[id(sink)] = sink
        self.subscribers += 1
        if viewer is not None:
            stream.viewers[id(sink)] = viewer
        if acknowledge:
            if stream.live:
                sink.acknowledge(acknowledgement(stream.position))
            else:
                stream.awaiting[id(sink)] = sink
        return lambda: self._leave(stream, sink)

    def _leave(self, stream: _Stream, sink: StreamSink) -> None:
        stream.awaiting.pop(id(sink), None)
        stream.viewers.pop(id(sink), None)
        if stream.members.pop(id(sink), None) is None:
            return
        self.subscribers -= 1
        if stream.members:
            return
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]
        if stream.task is not None:
            stream.task.cancel()

    async def _pump(self, stream: _Stream, bound: BoundOperation, context: Any) -> None:
        try:
            async with subscription_scope(resume_after=stream.key.resume_after, on_live=stream.went_live) as scope:
                stream.scope = scope
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
        scope = stream.scope
        assert scope is not None
        try:
            async for result in source:
                self.executions += 1
                position = scope.position
                if position is not None:
                    result.extensions = {**(result.extensions or {}), "position": position}
                if stream.awaiting:  # a source that never reported being live: its first event says it is
                    stream.went_live(None)
                if stream.key.resume_after is not None and self._streams.get(stream.key) is stream:
                    # A replay has begun: a later resumer from the same position needs its own from the start.
                    del self._streams[stream.key]
                payload = encode(result)
                if self.gate is None:
                    for sink in tuple(members.values()):
                        sink.push(payload)
                else:
                    self._push_authorised(stream, result, payload)
                # A burst of queued events would otherwise be relayed without a pause, filling every queue
                # before any writer ran: yield once per event so the writers keep pace.
                await asyncio.sleep(0)
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()

    def _push_authorised(self, stream: _Stream, result: ExecutionResult, payload: str) -> None:
        """Push `payload` to the members the app's hook lets see it (asked once per viewer key)."""
        assert self.gate is not None
        decided: dict[Hashable, bool] = {}
        viewers = stream.viewers
        for member, sink in tuple(stream.members.items()):
            if self.gate.decide(result, viewers.get(member), decided):
                sink.push(payload)

    def _end(self, stream: _Stream, errors_json: str | None) -> None:
        """Tell every member the stream is over; from here `leave` is a no-op for them."""
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]
        members = tuple(stream.members.values())
        stream.members.clear()
        self.subscribers -= len(members)
        stream.awaiting.clear()
        stream.viewers.clear()
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
