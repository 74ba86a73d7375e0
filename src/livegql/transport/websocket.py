"""The WebSocket endpoint: subprotocol negotiation, then per socket one reader, an eager outbox and two timers.

The ASGI coroutine itself is the reader; frames are written in place (see outbox.py), so a writer task exists
only while the server pushes back. An idle subscribed connection is one parked coroutine, a machine, a queue.
"""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from starlette.types import Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from livegql.core.config import Settings
from livegql.core.limits import exceeds_bytes
from livegql.protocol import GRAPHQL_TRANSPORT_WS_PROTOCOL, Close, CloseCode, Output, ServerProtocol
from livegql.protocol.codes import GRAPHQL_WS_LEGACY_PROTOCOL
from livegql.protocol.legacy_ws import LegacyServerProtocol
from livegql.protocol.plain_ws import PlainServerProtocol
from livegql.protocol.transport_ws import State
from livegql.transport.limits import TOO_MANY_CONNECTIONS, client_address
from livegql.transport.origin import origin_allowed
from livegql.transport.runtime import Runtime
from livegql.transport.session import OperationGroup, Session
from livegql.transport.shutdown import SERVICE_RESTART, SHUTTING_DOWN, draining

logger = logging.getLogger("livegql.websocket")

__all__ = ["Machine", "WebSocketConnection", "negotiate", "serve_websocket"]

Machine = ServerProtocol | LegacyServerProtocol | PlainServerProtocol
"""The protocol machines one connection can drive: they share their states, events and sending methods."""


async def serve_websocket(websocket: WebSocket, runtime: Runtime, send: Send) -> None:
    """Accept a graphql-transport-ws (or legacy subscriptions-transport-ws) socket and serve it until either
    side closes.

    `send` is the raw ASGI callable: frames skip Starlette's per-message state checks on the hot path.
    """
    if not origin_allowed(websocket.scope, runtime.settings):
        # A close before the accept: the ASGI server refuses the upgrade with 403, and nothing runs.
        await websocket.close(CloseCode.FORBIDDEN)
        return
    offered = websocket.scope.get("subprotocols") or []
    negotiated = negotiate(offered, runtime.settings)
    if negotiated is None:
        # graphql-ws closes after the handshake so that browsers see the code (a refused upgrade shows none).
        await websocket.accept()
        await websocket.close(CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
        return
    subprotocol, machine = negotiated
    if draining(runtime):
        # Accept, then 1012 Service Restart: clients retry it (graphql-ws with its randomised backoff) and reach
        # another server, where a refused upgrade would show them no code at all.
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(SERVICE_RESTART, SHUTTING_DOWN)
        return
    limits, client = runtime.connections, client_address(websocket.scope)
    if not limits.acquire(client):
        # Accept, then 1013 Try Again Later: browsers see the code (a refused upgrade shows none) and graphql-ws
        # clients retry on it, with their backoff.
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(CloseCode.TRY_AGAIN_LATER, TOO_MANY_CONNECTIONS)
        return
    try:
        await websocket.accept(subprotocol=subprotocol)
        await WebSocketConnection(websocket, runtime, send, machine).run()
    finally:
        limits.release(client)


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


class WebSocketConnection(Session):
    """Drives one WebSocket protocol machine with the socket, the timers and the operation runner."""

    def __init__(self, websocket: WebSocket, runtime: Runtime, send: Send, machine: Machine) -> None:
        super().__init__(websocket, runtime, send, machine)
        if isinstance(machine, LegacyServerProtocol):
            self.transport_name = "legacy"
        elif isinstance(machine, PlainServerProtocol):
            self.transport_name = "plain"
        self.websocket = websocket
        self.protocol = machine  # the same machine, with its WebSocket-only methods (receive_text, pings)
        self._reader: asyncio.Task[Any] | None = None
        self._outbox_finished = False
        self._init_timer: asyncio.TimerHandle | None = None
        self._ping_timer: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._reader = asyncio.current_task()
        self._register()  # until _shut_down
        # Timer handles, not sleeping tasks: nothing per connection waits for them.
        self._init_timer = loop.call_later(self.settings.connection_init_wait_timeout, self._init_timeout_expired)
        if self.settings.keepalive_interval is not None:
            self._ping_timer = loop.call_later(self.settings.keepalive_interval, self._ping)
        try:
            async with OperationGroup() as group:
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

    @property
    def task(self) -> asyncio.Task[Any] | None:
        return self._reader

    def _shut_down(self) -> None:
        for timer in (self._init_timer, self._ping_timer):
            if timer is not None:
                timer.cancel()
        super()._shut_down()

    async def _read(self) -> None:
        # Plain mode has no handshake message: its machine starts with the event that asks on_connect.
        self.runner.handle(self.machine.events_received())
        self.flush()
        if draining(self.runtime):
            self.close_for_restart()  # accepted just as the shutdown began: it would be missed by its sweep
        try:
            while self.machine.state is not State.CLOSED:
                data = await self._receive()
                if data is None:
                    return
                if exceeds_bytes(data, self.settings.max_message_bytes):
                    self.machine.close(CloseCode.BAD_REQUEST, "Message too large")
                else:
                    self.protocol.receive_text(data)
                    self.runner.handle(self.admitted(self.machine.events_received()))
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

    def initialised(self) -> None:
        """The init hook decided: the deadline has nothing left to guard (and its timer need not be kept)."""
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None

    def _init_timeout_expired(self) -> None:
        self.machine.init_timeout_expired()
        self.flush()
        self.abort_unless_closed_within(self.settings.close_timeout)

    def _ping(self) -> None:
        if self.machine.state is State.CLOSED:
            return
        if self.outbox.busy:
            pass  # frames are still waiting: a peer that stopped reading must not collect a ping per interval
        elif isinstance(self.protocol, ServerProtocol):
            self.protocol.send_ping()
            self.flush()
        else:
            self.protocol.send_keepalive()  # legacy: `ka` (it has no ping); plain: nothing of its own
            self.flush()
        interval = self.settings.keepalive_interval
        if interval is not None:
            self._ping_timer = asyncio.get_running_loop().call_later(interval, self._ping)
