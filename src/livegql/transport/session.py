"""One client session, whatever carries it: a protocol machine, its bounded outbox, and the operation runner.

A WebSocket (websocket.py) and an HTTP event stream (stream.py) differ only in how frames are written and how
the peer's going away is noticed; the policies are here, once: slow consumers, live results that wait for
room, dropping a peer that stops reading.
"""

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Coroutine
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import Send

from livegql.core.config import Settings
from livegql.protocol import CloseCode, Output
from livegql.protocol.machine import ServerMachine
from livegql.protocol.transport_ws import State
from livegql.transport.connection import OperationRunner
from livegql.transport.outbox import Outbox
from livegql.transport.runtime import Runtime
from livegql.transport.sinks import LiveQuerySink

logger = logging.getLogger("livegql.websocket")

SLOW_CONSUMER = "slow consumer"


class Session:
    """Drives one machine with the outbox and the operation runner. Subclasses write frames (`_write`) and
    read from the peer; `_finished` runs once the last frame is written or the peer is gone."""

    def __init__(self, request: HTTPConnection, runtime: Runtime, send: Send, machine: ServerMachine) -> None:
        self.request = request
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

    def _finished(self) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Move whatever the machine wants sent into the outbox; call after every machine call."""
        frames = self.machine.data_to_send()
        if frames:
            self.outbox.extend(frames)

    def _shut_down(self) -> None:
        self.runtime.sessions.discard(self)
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
        logger.info("Closing a slow consumer (%d frames waiting)", len(self.outbox))
        self._close_now(CloseCode.TRY_AGAIN_LATER, SLOW_CONSUMER)

    def close_forbidden(self, reason: str) -> None:
        """The client's credentials expired or were revoked: stop its operations, drop what it has not been
        sent yet (it may no longer see it), and close 4403 (an SSE or multipart stream ends)."""
        if self.machine.state is State.CLOSED:
            return
        logger.info("Closing a connection whose credentials ended: %s", reason)
        self._close_now(CloseCode.FORBIDDEN, reason)

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
        protocol = getattr(self._send, "__self__", None)
        transport = getattr(protocol, "transport", None)
        abort = getattr(transport, "abort", None)
        if callable(abort):
            logger.info("Aborting a slow consumer's connection: its last frame could not be written")
            _discard_unsent_on_close(transport)
            abort()
        self._finished()

    def end_operation(self, id: str, errors_json: str | None) -> None:
        """A shared stream ended for operation `id`: Complete it, or send its Error."""
        self.runner.forget(id)
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


def _discard_unsent_on_close(transport: Any) -> None:
    """SO_LINGER 0: closing sends a reset at once. Otherwise the kernel keeps the unsent megabytes and retries
    delivering them to the peer that reads nothing, for minutes, before it gives up on the orphaned socket."""
    sock = transport.get_extra_info("socket") if hasattr(transport, "get_extra_info") else None
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
