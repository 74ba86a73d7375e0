"""The stall scenario's slow consumer: one connection with several operations that stops reading at the TCP level.

It connects with a small SO_RCVBUF (so the window it advertises stays small), starts `count` operations (ids
"1".."count": subscriptions to a topic, or live queries), confirms with a graphql-transport-ws ping that the server
took them all in, and, at the first `next` it reads after that, stops calling recv on its socket (`pause_reading`).
What the server sends from then on fills the client's receive buffer, then the server's send buffer, then whatever
the server buffers itself. At the end the driver reads the server side's TCP state, resumes reading, and waits
(bounded) until every operation has its final message or the server ended the connection: then it reports what
arrived and how the connection ended (Close frame with code and reason, EOF without one, reset, or still open).
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson

from bench.load.session import PONG, open_session
from bench.load.tracking import Countdown
from bench.load.ws import WebSocketClient
from bench.procfs import tcp_socket

RCVBUF = 4096  # the kernel doubles it and keeps a minimum: a few KiB
BARRIER_TIMEOUT = 15.0
PING = b'{"type":"ping"}'

# From a `next` payload, the number the driver tracks (event index, live version); None: not part of the phase.
Numbering = Callable[[dict[str, Any]], int | None]


class Operation:
    """What one operation of the stalled connection received."""

    __slots__ = ("first", "last", "received", "unordered")

    def __init__(self) -> None:
        self.received = 0  # numbered messages
        self.first: int | None = None
        self.last: int | None = None
        self.unordered = 0  # a number not above the one before it (a duplicate, or out of order)

    def receive(self, number: int) -> None:
        if self.last is not None and number <= self.last:
            self.unordered += 1
        self.received += 1
        self.first = number if self.first is None else self.first
        self.last = number if self.last is None else max(self.last, number)


class StalledClient:
    def __init__(self, client: WebSocketClient, count: int, numbering: Numbering, server_port: int) -> None:
        self.client = client
        self.numbering = numbering
        self.server_port = server_port
        self.operations = {str(index + 1): Operation() for index in range(count)}
        self.frames = 0  # every message read, of any type
        self.others: list[str] = []  # messages other than next/ping/pong (errors, completes), first few
        self.stalled_at: float | None = None  # perf_counter when it stopped reading
        self.frames_before_stall = 0
        self.target: int | None = None  # the number every operation must reach once reading resumes
        self.complete = Countdown(count)
        self.pong: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        client.on_message = self.on_message

    def on_message(self, raw: bytes) -> None:
        self.frames += 1
        message = orjson.loads(raw)
        kind = message.get("type")
        if kind == "next":
            self._on_next(message)
        elif kind == "ping":
            self.client.send_text(PONG)
        elif kind == "pong":
            if not self.pong.done():
                self.pong.set_result(None)
        elif len(self.others) < 5:
            self.others.append(raw[:200].decode(errors="replace"))

    def _on_next(self, message: dict[str, Any]) -> None:
        if self.stalled_at is None and self.pong.done():
            self.stalled_at = time.perf_counter()
            self.frames_before_stall = self.frames
            self.client.pause_reading()
        operation = self.operations.get(str(message.get("id")))
        number = self.numbering(message.get("payload") or {})
        if operation is None or number is None:
            return
        before = operation.last
        operation.receive(number)
        target = self.target
        if target is not None and operation.last == target and (before is None or before < target):
            self.complete.tick()

    async def start(self, frames: list[bytes]) -> None:
        """Send the operations, then a ping: its pong means the server has taken every operation in."""
        for frame in frames:
            self.client.send_text(frame)
        self.client.send_text(PING)
        async with asyncio.timeout(BARRIER_TIMEOUT):
            await self.pong

    async def finish(self, target: int, seconds: float) -> dict[str, Any]:
        """Read the server's side of the connection, resume reading, wait until every operation has `target` or
        the connection ended (at most `seconds`), and report."""
        local_port = self.client.local_port
        server_socket = tcp_socket(self.server_port, local_port) if local_port is not None else None
        resumed_at = time.perf_counter()
        self.target = target
        for operation in self.operations.values():
            if operation.last == target:
                self.complete.tick()
        closed = self.client.closed
        closed.add_done_callback(lambda _: self.complete.abort("connection ended"))
        self.client.resume_reading()
        await self.complete.wait(seconds)
        return {
            "stalled_after_frames": self.frames_before_stall,
            "stalled_s": resumed_at - self.stalled_at if self.stalled_at is not None else None,
            "server_socket_before_resume": server_socket,
            "ending": self._ending(),
            "close_code": closed.result() if closed.done() else None,
            "close_reason": self.client.close_reason,
            "frames": self.frames,
            "operations": len(self.operations),
            "target": target,
            "reached_target": sum(operation.last == target for operation in self.operations.values()),
            "received_min": min(operation.received for operation in self.operations.values()),
            "received_max": max(operation.received for operation in self.operations.values()),
            "last_min": min((op.last for op in self.operations.values() if op.last is not None), default=None),
            "last_max": max((op.last for op in self.operations.values() if op.last is not None), default=None),
            "unordered": sum(operation.unordered for operation in self.operations.values()),
            "other_messages": self.others,
        }

    def _ending(self) -> str:
        closed = self.client.closed
        if not closed.done():
            return "open"
        if closed.result() is not None or self.client.close_reason is not None:
            return "close frame"
        return "reset" if self.client.lost_error else "eof without close frame"

    def close(self) -> None:
        self.client.close()


async def open_stalled(
    address: tuple[str, int, str], count: int, frames: list[bytes], numbering: Numbering
) -> StalledClient:
    """A StalledClient whose `count` operations (`frames`, one each) the server has taken in."""
    host, port, path = address
    client = await open_session(host, port, path, rcvbuf=RCVBUF)
    stalled = StalledClient(client, count, numbering, port)
    try:
        await stalled.start(frames)
    except BaseException:
        client.close()
        raise
    return stalled
