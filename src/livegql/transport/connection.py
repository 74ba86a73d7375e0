"""The operations of one WebSocket connection: the init hook, one task per subscribe id, cancellation."""

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult, GraphQLError

from livegql.broker import subscription_scope
from livegql.core.errors import ConnectionRejectedError
from livegql.engine import OperationKind, RequestError
from livegql.protocol import (
    CompleteReceived,
    ConnectionInitReceived,
    Event,
    SubscribePayload,
    SubscribeReceived,
)
from livegql.protocol.transport_ws import State
from livegql.transport.context import ContextValue, OnConnectResult, build_context, maybe_await

if TYPE_CHECKING:
    from livegql.transport.websocket import WebSocketConnection

logger = logging.getLogger("livegql.operations")


class OperationRunner:
    """Turns protocol events into tasks; every task it starts belongs to the connection's TaskGroup."""

    def __init__(self, connection: "WebSocketConnection", group: asyncio.TaskGroup) -> None:
        self._connection = connection
        self._machine = connection.machine
        self._runtime = connection.runtime
        self._group = group
        self._operations: dict[str, asyncio.Task[None]] = {}
        self._init_task: asyncio.Task[None] | None = None
        self._context: ContextValue = {}

    def handle(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, ConnectionInitReceived):
                self._init_task = self._group.create_task(self._initialise(event.payload or {}))
            elif isinstance(event, SubscribeReceived):
                task = self._group.create_task(self._operate(event.id, event.payload))
                self._operations[event.id] = task
            elif isinstance(event, CompleteReceived) and event.id in self._operations:
                self._operations.pop(event.id).cancel()

    def cancel_all(self) -> None:
        if self._init_task is not None:
            self._init_task.cancel()
        for task in self._operations.values():
            task.cancel()
        self._operations.clear()

    async def _initialise(self, params: dict[str, Any]) -> None:
        verdict, reason, context = await self._authorise(params)
        if self._machine.state is not State.INITIALISING:
            return  # closed (timeout, 4429) while the hook ran
        if verdict is False:
            self._machine.reject(reason)
        else:
            if isinstance(verdict, Mapping):
                context.update(verdict)
            self._context = context
            self._machine.accept()
        self._connection.flush()

    async def _authorise(self, params: dict[str, Any]) -> tuple[OnConnectResult, str, ContextValue]:
        """Build the connection's context and ask `on_connect`; any exception there rejects (4403)."""
        request = self._connection.websocket
        try:
            context = await build_context(
                self._runtime.pubsub, request, self._runtime.context, connection_params=params
            )
            verdict: OnConnectResult = True
            if self._runtime.on_connect is not None:
                verdict = await maybe_await(self._runtime.on_connect(params, request))
        except ConnectionRejectedError as error:
            return False, str(error) or "Forbidden", {}
        except Exception:
            logger.exception("on_connect or the context factory failed; rejecting the connection")
            return False, "Forbidden", {}
        return verdict, "Forbidden", context

    async def _operate(self, id: str, payload: SubscribePayload) -> None:
        try:
            async with subscription_scope():
                await self._run(id, payload)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # A bug or a resolver's source failing mid-stream: this operation ends, the socket stays.
            graphql_error = GraphQLError(str(error), original_error=error)
            self._machine.send_error(id, self._runtime.encoder.encode_errors([graphql_error]))
            self._connection.flush()
        finally:
            if self._operations.get(id) is asyncio.current_task():
                del self._operations[id]

    async def _run(self, id: str, payload: SubscribePayload) -> None:
        executor = self._runtime.executor
        encoder = self._runtime.encoder
        try:
            prepared = executor.prepare(payload.query, payload.operation_name)
            executor.check_variables(prepared, payload.variables)
        except RequestError as error:
            self._machine.send_error(id, encoder.encode_errors(error.errors))
            self._connection.flush()
            return
        context = dict(self._context)
        if prepared.kind is OperationKind.SUBSCRIPTION:
            stream = await executor.subscribe(prepared, payload.variables, context)
            if isinstance(stream, ExecutionResult):
                self._machine.send_error(id, encoder.encode_errors(stream.errors or []))
                self._connection.flush()
                return
            await self._stream(id, stream)
        else:
            result = await executor.execute(prepared, payload.variables, context)
            await self._send_next(id, encoder.encode_result(result))
        if self._machine.send_complete(id):
            self._connection.flush()

    async def _stream(self, id: str, stream: AsyncIterator[ExecutionResult]) -> None:
        try:
            async for result in stream:
                if not await self._send_next(id, self._runtime.encoder.encode_result(result)):
                    return
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _send_next(self, id: str, payload_json: str) -> bool:
        """Queue one result; False once the id is gone (client completed, socket closed)."""
        if not self._machine.send_next(id, payload_json):
            return False
        self._connection.flush()
        await self._connection.outbox.wait_for_room()
        return True
