"""The WebSocket endpoint: subprotocol negotiation, then per socket one reader, an eager outbox and two timers.

The ASGI coroutine itself is the reader; frames are written in place (see outbox.py), so a writer task exists
only while the server pushes back. An idle subscribed connection is one parked coroutine, a machine, a queue.
"""

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Coroutine
from typing import Any

from starlette.types import Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from livegql.core.config import Settings
from livegql.protocol import GRAPHQL_TRANSPORT_WS_PROTOCOL, Close, CloseCode, Output, ServerProtocol
from livegql.protocol.codes import GRAPHQL_WS_LEGACY_PROTOCOL
from livegql.protocol.legacy_ws import LegacyServerProtocol
from livegql.protocol.plain_ws import PlainServerProtocol
from livegql.protocol.transport_ws import State
from livegql.transport.connection import OperationRunner
from livegql.transport.outbox import Outbox
from livegql.transport.runtime import Runtime
from livegql.transport.sinks import LiveQuerySink

logger = logging.getLogger("livegql.websocket")

SLOW_CONSUMER = "slow consumer"

Machine = ServerProtocol | LegacyServerProtocol | PlainServerProtocol
"""The protocol machines one connection can drive: they share their states, events and sending methods."""


async def serve_websocket(websocket: WebSocket, runtime: Runtime, send: Send) -> None:
    """Accept a graphql-transport-ws (or legacy subscriptions-transport-ws) socket and serve it until either
    side closes.

    `send` is the raw ASGI callable: frames skip Starlette's per-message state checks on the hot path.
    """
    offered = websocket.scope.get("subprotocols") or []
    negotiated = negotiate(offered, runtime.settings)
    if negotiated is None:
        # graphql-ws closes after the handshake so that browsers see the code (a refused upgrade shows none).
        await websocket.accept()
        await websocket.close(CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
        return
    subprotocol, machine = negotiated
    await websocket.accept(subprotocol=subprotocol)
    await WebSocketConnection(websocket, runtime, send, machine).run()


def negotiate(offered: list[str], settings: Settings) -> tuple[str | None, Machine] | None:
    """The subprotocol to speak and its machine: graphql-transport-ws when offered, else the legacy protocol
    when offered and enabled, else plain mode when none is offered and it is enabled, else None (4406)."""
    if GRAPHQL_TRANSPORT_WS_PROTOCOL in offered:
        return GRAPHQL_TRANSPORT_WS_PROTOCOL, ServerProtocol()
    if settings.legacy_protocol and GRAPHQL_WS_LEGACY_PROTOCOL in offered:
        return GRAPHQL_WS_LEGACY_PROTOCOL, LegacyServerProtocol()
    if settings.plain_protocol and not offered:
        return None, PlainServerProtocol()
    return None


def _discard_unsent_on_close(transport: Any) -> None:
    """SO_LINGER 0: closing sends a reset at once. Otherwise the kernel keeps the unsent megabytes and retries
    delivering them to the peer that reads nothing, for minutes, before it gives up on the orphaned socket."""
    sock = transport.get_extra_info("socket") if hasattr(transport, "get_extra_info") else None
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _too_large(data: str | bytes, limit: int) -> bool:
    # A str has at most 4 UTF-8 bytes per character: only encode when the cheap bound cannot decide.
    if isinstance(data, bytes) or len(data) > limit or len(data) * 4 <= limit:
        return len(data) > limit
    return len(data.encode()) > limit


class WebSocketConnection:
    """Drives one ServerProtocol machine with the socket, the timers and the operation runner."""

    def __init__(self, websocket: WebSocket, runtime: Runtime, send: Send, machine: Machine) -> None:
        self.websocket = websocket
        self._send = send
        self.runtime = runtime
        self.settings = runtime.settings
        self.machine = machine
        self.outbox = Outbox(
            self.settings.send_queue_size, self._write, on_room=self._release_deferred, on_finished=self._finished
        )
        self.runner = OperationRunner(self)
        self._deferred: dict[str, LiveQuerySink] = {}
        self._reader: asyncio.Task[Any] | None = None
        self._outbox_finished = False
        self._init_timer: asyncio.TimerHandle | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._abort_timer: asyncio.TimerHandle | None = None

    def flush(self) -> None:
        """Move whatever the machine wants sent into the outbox; call after every machine call."""
        frames = self.machine.data_to_send()
        if frames:
            self.outbox.extend(frames)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._reader = asyncio.current_task()
        # Timer handles, not sleeping tasks: nothing per connection waits for them.
        self._init_timer = loop.call_later(self.settings.connection_init_wait_timeout, self._init_timeout_expired)
        if self.settings.keepalive_interval is not None:
            self._ping_timer = loop.call_later(self.settings.keepalive_interval, self._ping)
        try:
            async with asyncio.TaskGroup() as group:
                self.runner.group = group
                try:
                    await self._read()
                finally:
                    self._shut_down()
        except asyncio.CancelledError:
            task = self._reader
            if not self._outbox_finished or task is None:
                raise  # cancelled from outside (server shutdown): let it propagate
            task.uncancel()  # the Close was written (or the peer vanished): the connection is over, as designed

    def _shut_down(self) -> None:
        for timer in (self._init_timer, self._ping_timer, self._abort_timer):
            if timer is not None:
                timer.cancel()
        self.machine.connection_lost()
        self.runner.cancel_all()
        self.outbox.cancel()
        self._deferred.clear()

    async def _read(self) -> None:
        # Plain mode has no handshake message: its machine starts with the event that asks on_connect.
        self.runner.handle(self.machine.events_received())
        self.flush()
        try:
            while self.machine.state is not State.CLOSED:
                data = await self._receive()
                if data is None:
                    return
                if _too_large(data, self.settings.max_message_bytes):
                    self.machine.close(CloseCode.BAD_REQUEST, "Message too large")
                else:
                    self.machine.receive_text(data)
                    self.runner.handle(self.machine.events_received())
                self.flush()
            # Closed by us: once the Close is written the outbox ends the connection. Wait for the peer meanwhile.
            while await self._receive() is not None:
                pass
        except WebSocketDisconnect:
            pass

    async def _receive(self) -> str | bytes | None:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text: str | None = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    def _write(self, frame: Output) -> Coroutine[Any, Any, None]:
        # A plain function returning the send coroutine itself: no wrapper coroutine per frame.
        if isinstance(frame, Close):
            return self.websocket.close(frame.code, frame.reason)
        return self._send({"type": "websocket.send", "text": frame})  # type: ignore[return-value]

    def _finished(self) -> None:
        """The outbox wrote the Close, or found the peer gone: stop reading, end the connection."""
        self._outbox_finished = True
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()

    def close_slow_consumer(self) -> None:
        """The send queue is full and a subscription event must not be dropped: close 1013 right away."""
        if self.machine.state is State.CLOSED:
            return
        logger.info("Closing a slow consumer (%d frames waiting)", len(self.outbox))
        self.outbox.discard_pending()
        self.machine.close(CloseCode.TRY_AGAIN_LATER, SLOW_CONSUMER)
        self.runner.cancel_all()
        self.flush()
        # A peer that reads nothing may never let the Close out: drop the socket if it cannot be written in time.
        self._abort_timer = asyncio.get_running_loop().call_later(self.settings.close_timeout, self._drop)

    def _drop(self) -> None:
        """The Close could not be written within `close_timeout`: abort the TCP connection, end the session.

        ASGI can only close gracefully, and a graceful close waits for the send buffer to drain, which a peer
        that reads nothing never lets happen: its socket and megabytes of kernel buffers would stay forever.
        So where the server exposes its transport (uvicorn: the protocol object behind `send`), abort it.
        """
        protocol = getattr(self._send, "__self__", None)
        transport = getattr(protocol, "transport", None)
        abort = getattr(transport, "abort", None)
        if callable(abort):
            logger.info("Aborting a slow consumer's connection: its Close could not be written")
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
        """The init hook decided: the deadline has nothing left to guard (and its timer need not be kept)."""
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None

    def _init_timeout_expired(self) -> None:
        self.machine.init_timeout_expired()
        self.flush()

    def _ping(self) -> None:
        if self.machine.state is State.CLOSED:
            return
        if isinstance(self.machine, ServerProtocol):
            self.machine.send_ping()
        else:
            self.machine.send_keepalive()  # legacy: `ka` (it has no ping); plain: nothing of its own
        self.flush()
        interval = self.settings.keepalive_interval
        if interval is not None:
            self._ping_timer = asyncio.get_running_loop().call_later(interval, self._ping)
