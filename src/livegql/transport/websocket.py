"""The WebSocket endpoint: subprotocol negotiation, then one reader, one writer and the timers per socket."""

import asyncio
import logging
from collections import deque

from starlette.websockets import WebSocket, WebSocketDisconnect

from livegql.protocol import (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    Close,
    CloseCode,
    Output,
    ServerProtocol,
)
from livegql.protocol.transport_ws import State
from livegql.transport.connection import OperationRunner
from livegql.transport.runtime import Runtime

logger = logging.getLogger("livegql.websocket")


async def serve_websocket(websocket: WebSocket, runtime: Runtime) -> None:
    """Accept a graphql-transport-ws socket and serve it until either side closes."""
    offered = websocket.scope.get("subprotocols") or []
    if GRAPHQL_TRANSPORT_WS_PROTOCOL not in offered:
        # graphql-ws closes after the handshake so that browsers see the code (a refused upgrade shows none).
        await websocket.accept()
        await websocket.close(CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
        return
    await websocket.accept(subprotocol=GRAPHQL_TRANSPORT_WS_PROTOCOL)
    await WebSocketConnection(websocket, runtime).run()


def _too_large(data: str | bytes, limit: int) -> bool:
    # A str has at most 4 UTF-8 bytes per character: only encode when the cheap bound cannot decide.
    if isinstance(data, bytes) or len(data) > limit or len(data) * 4 <= limit:
        return len(data) > limit
    return len(data.encode()) > limit


class Outbox:
    """Frames waiting for the writer. Control frames always fit; operations wait while it is full."""

    def __init__(self, limit: int) -> None:
        self._frames: deque[Output] = deque()
        self._limit = limit
        self._has_frames = asyncio.Event()
        self._has_room = asyncio.Event()
        self._has_room.set()

    def extend(self, frames: list[Output]) -> None:
        if frames:
            self._frames.extend(frames)
            self._has_frames.set()
            if len(self._frames) >= self._limit:
                self._has_room.clear()

    async def wait_for_room(self) -> None:
        await self._has_room.wait()

    async def take(self) -> Output:
        while not self._frames:
            self._has_frames.clear()
            await self._has_frames.wait()
        frame = self._frames.popleft()
        if len(self._frames) < self._limit:
            self._has_room.set()
        return frame


class WebSocketConnection:
    """Drives one ServerProtocol machine with the socket, timers and the operation runner."""

    def __init__(self, websocket: WebSocket, runtime: Runtime) -> None:
        self.websocket = websocket
        self.runtime = runtime
        self.settings = runtime.settings
        self.machine = ServerProtocol()
        self.outbox = Outbox(self.settings.send_queue_size)
        self.finished = asyncio.Event()

    def flush(self) -> None:
        """Move whatever the machine wants sent into the outbox; call after every machine call."""
        self.outbox.extend(self.machine.data_to_send())

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            runner = OperationRunner(self, group)
            tasks = [
                group.create_task(self._read(runner)),
                group.create_task(self._write()),
            ]
            if self.settings.keepalive_interval is not None:
                tasks.append(group.create_task(self._keepalive(self.settings.keepalive_interval)))
            # A timer handle, not a sleeping task: one less task per connection for the whole init wait.
            init_timer = asyncio.get_running_loop().call_later(
                self.settings.connection_init_wait_timeout, self._init_timeout_expired
            )
            try:
                await self.finished.wait()
            finally:
                init_timer.cancel()
                self.machine.connection_lost()
                runner.cancel_all()
                for task in tasks:
                    task.cancel()

    async def _read(self, runner: "OperationRunner") -> None:
        try:
            while self.machine.state is not State.CLOSED:
                data = await self._receive()
                if data is None:
                    break
                if _too_large(data, self.settings.max_message_bytes):
                    self.machine.close(CloseCode.BAD_REQUEST, "Message too large")
                else:
                    self.machine.receive_text(data)
                    runner.handle(self.machine.events_received())
                self.flush()
            else:
                return  # the writer sends the Close and finishes the connection
        except WebSocketDisconnect:
            pass
        self.finished.set()

    async def _receive(self) -> str | bytes | None:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text: str | None = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    async def _write(self) -> None:
        try:
            while True:
                frame = await self.outbox.take()
                if isinstance(frame, Close):
                    await self.websocket.close(frame.code, frame.reason)
                    break
                await self.websocket.send_text(frame)
        except (WebSocketDisconnect, OSError, RuntimeError) as error:
            # The peer vanished mid-send; nothing is left to tell it.
            logger.debug("WebSocket send failed: %r", error)
        self.finished.set()

    def _init_timeout_expired(self) -> None:
        self.machine.init_timeout_expired()
        self.flush()

    async def _keepalive(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.machine.send_ping()
            self.flush()
