"""The operations of one WebSocket connection: the init hook, then queries as tasks, subscriptions and live
queries as memberships of the app's shared hubs, and cancellation of all of them."""

import asyncio
import time
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult, GraphQLError

from livegql.core.limits import exceeds_bytes, query_too_large_message
from livegql.engine import OperationKind, RequestError
from livegql.engine.event_gate import Viewer
from livegql.engine.executor import BoundOperation, PreparedOperation
from livegql.engine.operations import is_live, operation_key
from livegql.protocol import (
    CompleteReceived,
    ConnectionInitReceived,
    Event,
    RefreshReceived,
    ServerProtocol,
    SubscribePayload,
    SubscribeReceived,
)
from livegql.protocol.legacy_ws import LegacyServerProtocol
from livegql.protocol.transport_ws import State
from livegql.transport.auth import authorise, grant_of
from livegql.transport.context import Admission, ContextValue, OnConnectResult, static_context
from livegql.transport.credentials import PATCHES_PARAM, CredentialClock, identity_key, sharing_key
from livegql.transport.extensions import ACKNOWLEDGE_EXTENSION, EXPIRES_AT, PATCH_FORMATS, REFRESHED, RESUME_EXTENSION
from livegql.transport.limits import RATE_LIMITED, TOO_MANY_OPERATIONS, TokenBucket
from livegql.transport.oplog import operation_failed, operation_started
from livegql.transport.sinks import LiveQuerySink, SubscriptionSink, send_payloads
from livegql.transport.tracing import Failure, OperationSpans

if TYPE_CHECKING:
    from livegql.transport.session import Session


class OperationRunner:
    """Turns protocol events into operations; each id maps to the callable that stops it."""

    def __init__(self, connection: "Session") -> None:
        self._connection = connection
        self._machine = connection.machine
        self._runtime = connection.runtime
        self.group: asyncio.TaskGroup | None = None  # set by the connection before any event arrives
        self._operations: dict[str, Callable[[], Any]] = {}
        self._init_task: asyncio.Task[None] | None = None
        self._refresh_task: asyncio.Task[None] | None = None
        self.credentials = CredentialClock(connection)
        self.pending_grant: Admission | None = None  # an HTTP stream's admission, set before the session runs
        self._context: ContextValue = {}
        self._sharing: Hashable = None
        self._viewer_key: Hashable = None
        self._patches = False
        rate = self._runtime.settings.max_subscribes_per_second
        self._subscribes = TokenBucket(rate, burst=max(rate, 1.0))
        tracer = self._runtime.tracer
        self._spans = None if tracer is None else OperationSpans(tracer, connection)

    def handle(self, events: Sequence[Event]) -> None:
        assert self.group is not None
        for event in events:
            if isinstance(event, ConnectionInitReceived):
                params = event.payload or {}
                if self._runtime.on_connect is None and not callable(self._runtime.context):
                    # No hook can say no or await anything: acknowledge now, without a task per connection.
                    runtime = self._runtime
                    request = self._connection.request
                    context = static_context(runtime.pubsub, request, runtime.context, connection_params=params)
                    self._conclude(True, "", context, params)
                else:
                    self._init_task = self.group.create_task(self._initialise(params))
            elif isinstance(event, SubscribeReceived):
                self._subscribe(event.id, event.payload)
            elif isinstance(event, CompleteReceived):
                stop = self._operations.pop(event.id, None)
                if stop is not None:
                    stop()
                    self.forget(event.id)  # its span
            elif isinstance(event, RefreshReceived):
                self._start_refresh(event.params)

    def forget(self, id: str, failure: Failure = None) -> None:
        """Operation `id` ended (by itself, or stopped just now): nothing to stop any more."""
        self._operations.pop(id, None)
        if self._spans is not None:
            self._spans.end(id, failure)

    def cancel_all(self) -> None:
        self.credentials.cancel()
        for task in (self._init_task, self._refresh_task):
            if task is not None:
                task.cancel()
        operations = list(self._operations.values())
        self._operations.clear()
        for stop in operations:
            stop()
        if self._spans is not None:
            self._spans.end_all()

    def adopt(self, context: ContextValue) -> None:
        """Start a session whose client was admitted before it existed (an HTTP request or event stream:
        `on_connect` ran for the request, see auth.py, and `context` holds what it returned); its held
        operations run now, under `pending_grant`'s expiry and principals."""
        self._conclude(self.pending_grant or True, "", context, {})

    async def _initialise(self, params: dict[str, Any]) -> None:
        verdict, reason, context = await authorise(self._runtime, self._connection.request, params)
        self._conclude(verdict, reason, context, params)

    def _conclude(self, verdict: OnConnectResult, reason: str, context: ContextValue, params: dict[str, Any]) -> None:
        if self._machine.state is not State.INITIALISING:
            return  # closed (timeout, 4429) while the hook ran
        grant, reason = grant_of(verdict, reason)
        if grant is None:
            self._machine.reject(reason)
        else:
            self._admit(context, grant, params)
            if isinstance(self._machine, LegacyServerProtocol):
                # Legacy clients arm their keep-alive timeout on the first `ka`: send one only if more follow.
                self._machine.accept(keepalive=self._runtime.settings.keepalive_interval is not None)
            else:
                self._machine.accept()
            # The ack (or a stream's opening) goes out first: a held operation joining a live shared stream
            # writes its acknowledgement to the outbox straight away, past the machine's queued frames.
            self._connection.flush()
            # Legacy clients send their starts without waiting for the ack: the machine held them until now.
            self.handle(self._machine.events_received())
        self._connection.flush()
        self._connection.initialised()

    def _admit(self, context: ContextValue, grant: Admission, params: dict[str, Any]) -> None:
        """From now on, operations run with `context` (plus what the hook returned), as the grant says."""
        if grant.context:
            context.update(grant.context)
        self._context = context
        self._sharing = sharing_key(self._connection, context)
        if self._runtime.subscriptions.gate is not None:  # who this is, for the app's per-event hook
            self._viewer_key = identity_key(self._connection, context)
        self._patches = params.get(PATCHES_PARAM) in PATCH_FORMATS
        self.credentials.apply(grant)

    def _start_refresh(self, params: dict[str, Any]) -> None:
        assert self.group is not None
        if self._refresh_task is not None:
            self._refresh_task.cancel()  # the newest credentials are the ones that count
        self._refresh_task = self.group.create_task(self._refresh(params))

    async def _refresh(self, params: dict[str, Any]) -> None:
        """New credentials on an open connection: re-admitted, operations started from now on run with the new
        context and the expiry moves (confirmed by a Ping with `refreshed`); refused, the connection closes 4403.
        Running operations keep the context they started with."""
        verdict, reason, context = await authorise(self._runtime, self._connection.request, params)
        if self._machine.state is State.CLOSED:
            return
        grant, reason = grant_of(verdict, reason)
        if grant is None:
            self._connection.close_forbidden(reason)
            return
        self._admit(context, grant, params)
        if isinstance(self._machine, ServerProtocol):  # the only machine that reports refreshes
            self._machine.send_ping({REFRESHED: True, EXPIRES_AT: grant.expires_at})
            self._connection.flush()

    def _subscribe(self, id: str, payload: SubscribePayload) -> None:
        if not self._has_room(id):
            return
        executor = self._runtime.executor
        limit = self._runtime.settings.max_query_bytes
        if exceeds_bytes(payload.query, limit):
            self._refuse(id, query_too_large_message(limit))
            return
        try:
            prepared = executor.prepare(payload.query, payload.operation_name)
            bound = executor.bind(prepared, payload.variables)
        except RequestError as error:
            self._machine.send_error(id, self._runtime.encoder.encode_errors(error.errors))
            self._connection.flush()
            return
        context, variables = dict(self._context), payload.variables
        operation_started(self._connection, id, prepared.kind.value)
        if self._spans is not None:
            self._spans.start(id, prepared, variables)
        if prepared.kind is OperationKind.SUBSCRIPTION:
            if not self._rate_allows(id):
                return
            self._join_subscription(id, payload, prepared, bound, context)
        elif is_live(prepared.operation, variables):
            if not self._rate_allows(id):
                return
            key = operation_key(prepared, variables, self._sharing)
            patches = self._patches or (payload.extensions or {}).get(PATCHES_PARAM) in PATCH_FORMATS
            live_sink = LiveQuerySink(self._connection, id, patches=patches)
            self._operations[id] = self._runtime.live.join(key, prepared, variables, context, live_sink)
        elif prepared.incremental:
            assert self.group is not None
            task = self.group.create_task(self._execute_incrementally(id, bound, context))
            self._operations[id] = task.cancel
        else:
            assert self.group is not None
            task = self.group.create_task(self._execute(id, bound, context))
            self._operations[id] = task.cancel

    def _join_subscription(
        self, id: str, payload: SubscribePayload, prepared: PreparedOperation, bound: BoundOperation, context: Any
    ) -> None:
        extensions = payload.extensions or {}
        resume_after = extensions.get(RESUME_EXTENSION)
        if resume_after is not None and not isinstance(resume_after, str):
            self._refuse(id, f'"{RESUME_EXTENSION}" must be a position string from an earlier event')
            return
        key = operation_key(prepared, payload.variables, self._sharing, resume_after)
        sink = SubscriptionSink(self._connection, id)
        acknowledge = extensions.get(ACKNOWLEDGE_EXTENSION) is True
        hub = self._runtime.subscriptions
        viewer = Viewer(context, self._viewer_key) if hub.gate is not None else None
        self._operations[id] = hub.join(key, bound, context, sink, acknowledge=acknowledge, viewer=viewer)

    def _has_room(self, id: str) -> bool:
        """Whether operation `id` fits under `max_operations_per_connection`; if not, it gets its Error."""
        limit = self._runtime.settings.max_operations_per_connection
        if len(self._operations) < limit:
            return True
        self._refuse(id, f"At most {limit} operations at once per connection", TOO_MANY_OPERATIONS)
        return False

    def _rate_allows(self, id: str) -> bool:
        """Whether subscription or live query `id` may start now (`max_subscribes_per_second`); if not, it gets
        its Error. Queries and mutations spend no token: they end by themselves, their number at once is
        bounded above, and over HTTP they would not be rate-limited either."""
        if self._subscribes.take(time.monotonic()):
            return True
        rate = self._runtime.settings.max_subscribes_per_second
        self._refuse(id, f"At most {rate:g} subscriptions a second per connection", RATE_LIMITED)
        return False

    def _refuse(self, id: str, message: str, code: str = "BAD_REQUEST") -> None:
        """An operation the request itself (or a limit) makes impossible: its Error, nothing else."""
        errors = [GraphQLError(message, extensions={"code": code})]
        self.forget(id, message)  # a span started, if it was refused after (by the rate limit)
        self._machine.send_error(id, self._runtime.encoder.encode_errors(errors))
        self._connection.flush()

    async def _execute(self, id: str, bound: BoundOperation, context: ContextValue) -> None:
        encoder = self._runtime.encoder
        if self._spans is not None:
            self._spans.activate(id)
        try:
            result = await self._runtime.executor.run(bound, context)
            payload = encoder.encode_result(result)
        except Exception as error:
            # A bug below graphql-core's own error handling: this operation ends, the socket stays.
            operation_failed(self._connection, id, bound.prepared.kind.value)
            self.forget(id, error)
            self._machine.send_error(id, encoder.encode_errors([GraphQLError(str(error), original_error=error)]))
            self._connection.flush()
            return
        self.forget(id, result.errors)
        if self._machine.send_next(id, payload):
            self._machine.send_complete(id)
            self._connection.flush()

    async def _execute_incrementally(self, id: str, bound: BoundOperation, context: ContextValue) -> None:
        """@defer / @stream: each payload its own result message (`next`, `data`, an SSE `next` event), then
        Complete. Stopping the operation cancels this task; closing the payloads cancels the deferred work."""
        encoder = self._runtime.encoder
        if self._spans is not None:
            self._spans.activate(id)
        try:
            outcome = await self._runtime.executor.run_incremental(bound, context, encoder)
            if isinstance(outcome, ExecutionResult):  # nothing was deferred after all, e.g. `@defer(if: false)`
                finished = self._machine.send_next(id, encoder.encode_result(outcome))
            else:
                try:
                    finished = await send_payloads(self._connection, id, outcome)
                finally:
                    await outcome.aclose()
        except Exception as error:
            # As in `_execute`: a bug below graphql-core's error handling ends this operation, not the socket.
            self.forget(id, error)
            self._machine.send_error(id, encoder.encode_errors([GraphQLError(str(error), original_error=error)]))
            self._connection.flush()
            return
        self.forget(id)
        if finished:
            self._machine.send_complete(id)
        self._connection.flush()
