"""One client session, whatever carries it: a protocol machine, its bounded outbox, and the operation runner.

A WebSocket (websocket.py) and an HTTP event stream (stream.py) differ only in how frames are written and how
the peer's going away is noticed; the policies are here, once: slow consumers, live results that wait for
room, dropping a peer that stops reading, and ending for a restart (shutdown.py drives that).
"""

import asyncio
import contextlib
import logging
import secrets
import socket
import struct
from collections.abc import Coroutine, Generator, Sequence
from contextvars import Context
from typing import Any, TypeVar

from starlette.requests import HTTPConnection
from starlette.types import Send

from livegql.core.config import Settings
from livegql.protocol import CloseCode, Event, Output, SubscribeReceived
from livegql.protocol.machine import ServerMachine
from livegql.protocol.transport_ws import State
from livegql.transport.connection import OperationRunner
from livegql.transport.outbox import Outbox
from livegql.transport.runtime import Runtime
from livegql.transport.shutdown import SERVICE_RESTART, SHUTTING_DOWN, draining
from livegql.transport.sinks import LiveQuerySink

logger = logging.getLogger("livegql.websocket")

SLOW_CONSUMER = "slow consumer"
T = TypeVar("T")


class OperationGroup(asyncio.TaskGroup):
    """A session's TaskGroup that can tell when the operations in it have finished: a shutdown lets running
    queries and mutations end (their results are sent) before it closes the session."""

    def __init__(self) -> None:
        super().__init__()
        # Made on first use: an idle subscribed connection (the common one) never runs a task, and keeps no set.
        self._running: set[asyncio.Task[Any]] | None = None
        self._idle: asyncio.Future[None] | None = None

    def create_task(
        self,
        coro: Generator[Any, None, T] | Coroutine[Any, Any, T],
        *,
        name: str | None = None,
        context: Context | None = None,
    ) -> "asyncio.Task[T]":
        task = super().create_task(coro, name=name, context=context)
        if self._running is None:
            self._running = set()
        self._running.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: "asyncio.Task[Any]") -> None:
        if self._running is not None:
            self._running.discard(task)
        if not self._running and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    async def idle(self) -> None:
        """Return once no task of the group is running (at once if none is)."""
        while self._running:
            self._idle = asyncio.get_running_loop().create_future()
            await self._idle


class Session:
    """Drives one machine with the outbox and the operation runner. Subclasses write frames (`_write`) and
    read from the peer; `_finished` runs once the last frame is written or the peer is gone."""

    transport_name = "graphql-transport-ws"
    """The label of this session's transport in metrics and logs (counters.TRANSPORTS); subclasses set theirs."""

    def __init__(self, request: HTTPConnection, runtime: Runtime, send: Send, machine: ServerMachine) -> None:
        self.connection_id = secrets.token_hex(4)
        """Names this session in log records (`connection_id`): random, so workers' ids do not collide."""
        self.request = request
        self.counters = runtime.counters
        self._registered = False
        self._send = send
        self.runtime = runtime
        self.settings: Settings = runtime.settings
        self.machine = machine
        self.outbox = Outbox(
            self.settings.send_queue_size, self._write, on_room=self._release_deferred, on_finished=self._finished
        )
        self.runner = OperationRunner(self)
        self._deferred: dict[str, LiveQuerySink] = {}
        self._abort_timer: asyncio.TimerHandle | None = None

    def _write(self, frame: Output) -> Coroutine[Any, Any, None]:
        raise NotImplementedError

    @property
    def task(self) -> "asyncio.Task[Any] | None":
        """The task serving this session (the ASGI one): it ends when the session does."""
        raise NotImplementedError

    def _finished(self) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Move whatever the machine wants sent into the outbox; call after every machine call."""
        frames = self.machine.data_to_send()
        if frames:
            self.outbox.extend(frames)

    def _register(self) -> None:
        """The session is open: shutdown and revocation can find it, and metrics count it, until `_shut_down`."""
        self.runtime.sessions.add(self)
        self._registered = True
        self.counters.opened[self.transport_name] += 1

    @property
    def log_extra(self) -> dict[str, str]:
        """The `extra=` of this session's log records: which connection, over which transport."""
        return {"connection_id": self.connection_id, "transport": self.transport_name}

    def _shut_down(self) -> None:
        self.runtime.sessions.discard(self)
        if self._registered:
            self._registered = False
            self.counters.closed[self.transport_name] += 1
        if self._abort_timer is not None:
            self._abort_timer.cancel()
        self.machine.connection_lost()
        self.runner.cancel_all()
        self.outbox.cancel()
        self._deferred.clear()

    def close_slow_consumer(self) -> None:
        """The send queue is full and a subscription event must not be dropped: end the session right away."""
        if self.machine.state is State.CLOSED:
            return
        waiting = len(self.outbox)
        logger.info("Closing a slow consumer (%d frames waiting)", waiting, extra=self.log_extra)
        self.counters.slow_consumer_closes += 1
        self.counters.slow_consumer_drops += waiting
        self._close_now(CloseCode.TRY_AGAIN_LATER, SLOW_CONSUMER)

    def close_forbidden(self, reason: str) -> None:
        """The client's credentials expired or were revoked: stop its operations, drop what it has not been
        sent yet (it may no longer see it), and close 4403 (an SSE or multipart stream ends)."""
        if self.machine.state is State.CLOSED:
            return
        logger.info("Closing a connection whose credentials ended: %s", reason, extra=self.log_extra)
        self._close_now(CloseCode.FORBIDDEN, reason)

    def admitted(self, events: Sequence[Event]) -> Sequence[Event]:
        """The events to run. While the app drains, operations the client starts are not: its session closes
        with 1012 as soon as the running ones finish, and clients send again what they had not seen complete
        once they reconnect (graphql-ws and subscriptions-transport-ws do), to a server that is not leaving.
        Running them instead could keep a busy session, and the drain, going until the grace period ends."""
        if not events or not draining(self.runtime):
            return events
        return [event for event in events if not isinstance(event, SubscribeReceived)]

    async def operations_finished(self) -> None:
        """Return once no query, mutation or init hook of this session is running (subscriptions never end)."""
        group = self.runner.group
        if isinstance(group, OperationGroup):
            await group.idle()

    def close_for_restart(self) -> None:
        """The server is shutting down: stop every operation, then close with 1012 (Service Restart), which
        clients retry with their own randomised backoff. Unlike `_close_now`, what is queued is still written
        first: events accepted before the shutdown reach the client. A peer that does not read them within
        `close_timeout` is cut."""
        if self.machine.state is State.CLOSED:
            return
        self.runner.cancel_all()
        self._before_restart()
        self.machine.close(SERVICE_RESTART, SHUTTING_DOWN)
        self.flush()
        self._abort_timer = asyncio.get_running_loop().call_later(self.settings.close_timeout, self._drop)

    def _before_restart(self) -> None:
        """What a transport writes before its restart Close (an SSE stream: when to reconnect)."""

    def cut(self) -> None:
        """The shutdown's grace period ended before this session's last frame was written: drop it now."""
        if self._abort_timer is not None:
            self._abort_timer.cancel()
        self._drop()

    def _close_now(self, code: CloseCode, reason: str) -> None:
        self.outbox.discard_pending()
        self.machine.close(code, reason)
        self.runner.cancel_all()
        self.flush()
        # A peer that reads nothing may never let the Close out: drop the socket if it cannot be written in time.
        self._abort_timer = asyncio.get_running_loop().call_later(self.settings.close_timeout, self._drop)

    def _drop(self) -> None:
        """The last frame could not be written within `close_timeout`: abort the TCP connection, end the session.

        ASGI can only close gracefully, and a graceful close waits for the send buffer to drain, which a peer
        that reads nothing never lets happen: its socket and megabytes of kernel buffers would stay forever.
        So where the server exposes its transport (uvicorn: the protocol object behind `send`), abort it.
        """
        transport = self._transport()
        if transport is not None:
            logger.info(
                "Aborting a slow consumer's connection: its last frame could not be written", extra=self.log_extra
            )
            _discard_unsent_on_close(transport)
            transport.abort()
        self._finished()

    def abort_unless_closed_within(self, delay: float) -> None:
        """After our Close, uvicorn waits 10 s for the peer's own before it lets the TCP connection go: for a
        peer that never even initialised, `delay` is enough. Outlives the session, which ends once the Close
        is written."""
        transport = self._transport()
        if transport is not None:
            asyncio.get_running_loop().call_later(delay, _abort_if_open, transport)

    def _transport(self) -> Any:
        """The server's transport behind `send` (uvicorn: the protocol object's), or None where not exposed."""
        protocol = getattr(self._send, "__self__", None)
        transport = getattr(protocol, "transport", None)
        return transport if callable(getattr(transport, "abort", None)) else None

    def end_operation(self, id: str, errors_json: str | None) -> None:
        """A shared stream ended for operation `id`: Complete it, or send its Error."""
        self.runner.forget(id, errors_json)
        self._deferred.pop(id, None)
        sent = self.machine.send_complete(id) if errors_json is None else self.machine.send_error(id, errors_json)
        if sent:
            self.flush()

    def defer(self, sink: LiveQuerySink) -> None:
        """`sink` holds a result the full queue could not take; it is released when the queue has room."""
        self._deferred[sink.id] = sink

    def _release_deferred(self) -> None:
        waiting = list(self._deferred.values())
        self._deferred.clear()
        for sink in waiting:
            sink.release()

    def initialised(self) -> None:
        """The init hook decided (a session with a deadline for it cancels the deadline here)."""


def _abort_if_open(transport: Any) -> None:
    if not transport.is_closing():
        transport.abort()


def _discard_unsent_on_close(transport: Any) -> None:
    """SO_LINGER 0: closing sends a reset at once. Otherwise the kernel keeps the unsent megabytes and retries
    delivering them to the peer that reads nothing, for minutes, before it gives up on the orphaned socket."""
    sock = transport.get_extra_info("socket") if hasattr(transport, "get_extra_info") else None
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
