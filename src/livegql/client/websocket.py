"""`Client`: GraphQL over graphql-transport-ws with `websockets`, reconnecting (and failing over) when the socket drops.

Subscriptions ask the server to acknowledge them and track each event's stream position; after a reconnect they
resume after the last position received, so events published meanwhile are replayed, none lost or repeated
(livegql's resume extensions, see client/resume.py). A server that no longer retains that history ends the
subscription with HistoryGoneError; one without the extensions is simply subscribed again, as before.
"""

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, Self

from websockets.exceptions import ConnectionClosed

from livegql.client.backoff import Backoff
from livegql.client.errors import ClientConnectionError
from livegql.client.failover import Endpoints
from livegql.client.operation import Operation
from livegql.client.refresh import Refreshes
from livegql.client.results import data_of
from livegql.client.resume import error_of, is_acknowledgement, position_of
from livegql.client.session import Session, closed_error, is_fatal
from livegql.client.subscription import Subscription
from livegql.core.errors import ClientError
from livegql.protocol import (
    ClientEvent,
    ErrorReceived,
    NextReceived,
    PingReceived,
    ServerCompleteReceived,
    SubscribePayload,
)

logger = logging.getLogger("livegql.client")

DEFAULT_QUEUE_SIZE = 1000


class Client:
    """A graphql-transport-ws client; use as `async with Client(url) as client:`.

    `url` may be a sequence of URLs of equivalent servers: the first connection tries them in order until one
    acknowledges, once each (all failing, `__aenter__` raises). Once connected, an unexpected drop reconnects
    (when `reconnect`) after a backoff of `backoff_initial` doubling up to `backoff_max` seconds, jittered, at
    most `max_attempts` times in a row (None: forever); each attempt tries the URL that last worked, then the
    others. The active subscriptions are then subscribed again, resuming after their last position. Queries
    and mutations in flight when the socket drops raise ClientError rather than run twice. A close with 4400,
    4401, 4403, 4406, 4409 or 4429 (or another code retrying cannot fix) is never retried, nor failed over:
    every operation raises ConnectionClosedError naming the code and reason. Each operation buffers up to
    `queue_size` unread results; one that falls further behind raises ClientError and is completed, so one
    slow reader never stalls the socket.
    """

    def __init__(
        self,
        url: str | Sequence[str],
        *,
        connection_params: dict[str, Any] | None = None,
        reconnect: bool = True,
        max_attempts: int | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        connect_timeout: float = 10.0,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self._endpoints = Endpoints(url)
        if connect_timeout <= 0 or queue_size <= 0:
            raise ValueError("connect_timeout and queue_size must be positive")
        self.urls = self._endpoints.urls
        self.url = self.urls[0]  # the one URL of earlier versions; see connected_url for the one in use
        self._params = connection_params
        self._reconnect = reconnect
        self._backoff = Backoff(backoff_initial, backoff_max, max_attempts)
        self._connect_timeout = connect_timeout
        self._queue_size = queue_size
        self._ids = itertools.count(1)
        self._operations: dict[str, Operation] = {}
        self._session: Session | None = None  # set only while a socket is acknowledged
        self._task: asyncio.Task[None] | None = None
        self._failure: ClientError | None = None
        self._started = False
        self._refreshes = Refreshes()
        self.connects = 0
        """Sockets acknowledged so far: 1 plus the reconnects (for monitoring and tests)."""

    @property
    def connected_url(self) -> str | None:
        """The URL of the current socket; None before connecting, while reconnecting and once closed."""
        return self._session.url if self._session is not None else None

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def connect(self) -> None:
        """Open the first connection (once: no retry); raises ClientConnectionError or ConnectionClosedError."""
        if self._started:
            raise RuntimeError("Client.connect() was already called")
        self._started = True
        try:
            session = await self._endpoints.open(self._params, self._connect_timeout)
        except ClientError as error:
            self._fail(error)
            raise
        except BaseException:
            self._fail(ClientError("connect() was cancelled"))
            raise
        if self._failure is not None:  # aclose() ran while we were connecting
            with contextlib.suppress(ConnectionClosed):
                await session.close()
            raise self._failure
        self._session = session
        self.connects += 1
        self._send_subscribe(session, list(self._operations.values()))  # any started meanwhile
        self._task = asyncio.create_task(self._supervise(session), name=f"livegql client {session.url}")

    async def aclose(self) -> None:
        """Close the socket and stop the reader; pending operations raise ClientError. Idempotent."""
        if self._failure is None:
            self._fail(ClientError("the client is closed"))
        session, self._session = self._session, None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
        if session is not None:
            with contextlib.suppress(ConnectionClosed):
                await session.close()

    async def refresh(self, connection_params: dict[str, Any]) -> float | None:
        """Send new credentials on the open connection, and use them for every reconnect from now on: livegql
        re-admits the connection without reconnecting and this returns the new expiry (`time.time()` seconds;
        None: none). Refused, the socket closes with 4403: ConnectionClosedError. Not connected: None, and the
        next connection uses them. Bound the wait with `asyncio.timeout` if needed."""
        self._params = connection_params
        if self._session is None:
            return None
        return await self._refreshes.send(self._session, connection_params)

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        extensions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run a query or mutation; its `data`, or ClientError when the result has errors or it fails.

        Given a subscription, returns the first event's data and completes it.
        """
        payload = SubscribePayload(query, variables, operation_name, extensions)
        operation = self._start(payload, resumable=False)
        try:
            result = await operation.next()
        finally:
            # Usually the server's Complete came with the result; if not, ours is harmless (unknown ids are
            # ignored) and ends a subscription that was passed here by mistake.
            self._stop(operation)
        if result is None:
            raise ClientError("the server completed the operation without a result")
        return data_of(result)

    def subscribe(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        extensions: dict[str, Any] | None = None,
    ) -> Subscription:
        """Subscribe now; iterate the result for each event's `data`. Leaving the loop completes it.

        `extensions` go in the Subscribe payload, with `acknowledge` (and, when resuming, `resumeAfter`)
        merged over them; a `resumeAfter` position given there resumes a stream kept from earlier.
        """
        payload = SubscribePayload(query, variables, operation_name, extensions)
        operation = self._start(payload, resumable=True)
        return Subscription(operation, self._stop)

    def _start(self, payload: SubscribePayload, *, resumable: bool) -> Operation:
        if not self._started:
            raise RuntimeError("Client is not connected: use `async with Client(url) as client:`")
        if self._failure is not None:
            raise self._failure
        operation = Operation(str(next(self._ids)), payload, resumable=resumable, limit=self._queue_size)
        self._operations[operation.id] = operation
        if self._session is not None:
            self._send_subscribe(self._session, [operation])
        # else: reconnecting; the operation is subscribed on the next socket.
        return operation

    def _stop(self, operation: Operation, error: ClientError | None = None) -> None:
        """End an operation from our side: Complete it on the server if it is still running there."""
        if self._operations.pop(operation.id, None) is None:
            return
        operation.finish(error)
        session = self._session
        if session is not None and session.machine.complete(operation.id):
            session.flush()

    def _send_subscribe(self, session: Session, operations: Iterable[Operation]) -> None:
        if not session.machine.acknowledged:
            return  # the machine is closing this socket; the drop is handled by the supervisor
        for operation in operations:
            session.machine.subscribe(operation.id, operation.subscribe_payload())
            operation.sent = True
        session.flush()

    def _fail(self, error: ClientError) -> None:
        """No more operations: every pending one, and every later call, raises `error`."""
        self._failure = error
        operations = list(self._operations.values())
        self._operations.clear()
        for operation in operations:
            operation.finish(error)

    async def _supervise(self, session: Session) -> None:
        """The client's one task: read the socket; when it drops, reconnect and resubscribe, or fail."""
        try:
            while True:
                error = await self._serve(session)
                if is_fatal(error) or not self._reconnect:
                    self._fail(error)
                    return
                logger.info("%s: %s; reconnecting", session.url, error)
                self._forget_unresumable()
                session = await self._endpoints.reopen(self._params, self._connect_timeout, self._backoff)
                self._session = session
                self.connects += 1
                self._send_subscribe(session, list(self._operations.values()))
        except ClientError as error:
            self._fail(error)
        except Exception as error:  # a bug here must not leave operations waiting forever
            logger.exception("livegql client reader failed")
            self._fail(ClientError(f"client reader failed: {error!r}"))

    async def _serve(self, session: Session) -> ClientError:
        """Read one socket until it closes, with its writer beside; returns how it ended."""
        async with asyncio.TaskGroup() as group:
            writer = group.create_task(session.write())
            try:
                return await self._read(session)
            finally:
                writer.cancel()

    async def _read(self, session: Session) -> ClientError:
        while True:
            try:
                frame = await session.connection.recv()
            except ConnectionClosed as closed:
                # Before any await: from here on, new operations wait for the next socket.
                session.machine.connection_lost()
                self._session = None
                for operation in self._operations.values():
                    operation.connection_lost()  # subscribed() now waits for the next socket's ack
                error = closed_error(closed)
                self._refreshes.fail(error)
                return error
            session.machine.receive_text(frame)
            self._dispatch(session.machine.events_received())
            session.flush()
            await session.wait_for_room()

    def _dispatch(self, events: list[ClientEvent]) -> None:
        # ConnectionAck repeats are ignored; the machine already queued a Pong for each Ping.
        for event in events:
            if isinstance(event, NextReceived):
                self._deliver(event)
            elif isinstance(event, PingReceived):
                self._refreshes.confirm(event.payload)
            elif isinstance(event, ErrorReceived | ServerCompleteReceived):
                operation = self._operations.pop(event.id, None)
                if operation is not None:
                    error = None
                    if isinstance(event, ErrorReceived):
                        error = error_of(event.errors, operation.resumed_after)
                    operation.finish(error)

    def _deliver(self, event: NextReceived) -> None:
        operation = self._operations.get(event.id)
        if operation is None:
            return
        if is_acknowledgement(event.payload):
            operation.acknowledge(position_of(event.payload))  # never a result: it carries no data
        elif not operation.push(event.payload):
            limit = self._queue_size
            self._stop(operation, ClientError(f"fell more than {limit} results behind; completed"))

    def _forget_unresumable(self) -> None:
        """After a drop: queries and mutations already sent fail (a retry could run them twice)."""
        for operation in list(self._operations.values()):
            if operation.sent and not operation.resumable:
                del self._operations[operation.id]
                operation.finish(ClientConnectionError("the connection was lost before the result arrived"))
            operation.sent = False
