"""An HTTP response that streams: one session of an SSE or multipart machine, written as body chunks.

The response starts with the machine's first frame, so a request refused before that (a Close first) still
gets a plain status and a GraphQL error body. The ASGI coroutine waits for `http.disconnect`: the client
going away stops its operations at once, as a socket closing does.
"""

import asyncio
import contextlib
from collections.abc import Coroutine
from http import HTTPStatus
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import Receive, Send

from livegql.protocol import Close, CloseCode, Output
from livegql.protocol.http import error_body
from livegql.protocol.http_stream import HTTPStreamProtocol
from livegql.protocol.machine import ServerMachine
from livegql.protocol.sse import EVENT_STREAM, retry_field
from livegql.protocol.transport_ws import State
from livegql.transport.context import ContextValue
from livegql.transport.limits import RETRY_AFTER_SECONDS, TOO_MANY_CONNECTIONS, client_address
from livegql.transport.runtime import Runtime
from livegql.transport.session import OperationGroup, Session
from livegql.transport.shutdown import SERVICE_RESTART, SHUTTING_DOWN, draining, retry_after_header, retry_delay

# What keeps proxies and servers from holding the stream back: no caching or transforming (compression
# buffers), nginx's own switch, and keep-alive for HTTP/1.0 intermediaries.
STREAM_HEADERS = [
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
    (b"connection", b"keep-alive"),
]
_JSON = b"application/json; charset=utf-8"
GOING_AWAY = SHUTTING_DOWN
# A Close before anything was written: the status that says why.
_STATUS_BEFORE_START = {
    CloseCode.FORBIDDEN: HTTPStatus.FORBIDDEN,
    CloseCode.CONNECTION_INITIALISATION_TIMEOUT: HTTPStatus.REQUEST_TIMEOUT,
    CloseCode.TRY_AGAIN_LATER: HTTPStatus.SERVICE_UNAVAILABLE,
    CloseCode.GOING_AWAY: HTTPStatus.SERVICE_UNAVAILABLE,
    SERVICE_RESTART: HTTPStatus.SERVICE_UNAVAILABLE,
    CloseCode.BAD_REQUEST: HTTPStatus.BAD_REQUEST,
}


class HTTPStreamSession(Session):
    """Serves one machine over one streaming HTTP response until it ends or the client goes away."""

    def __init__(
        self,
        request: HTTPConnection,
        runtime: Runtime,
        send: Send,
        receive: Receive,
        machine: ServerMachine,
        *,
        content_type: str,
    ) -> None:
        super().__init__(request, runtime, send, machine)
        self._receive = receive
        self._content_type = content_type.encode()
        self._event_stream = content_type.startswith(EVENT_STREAM)
        self.transport_name = "multipart"
        if self._event_stream:
            self.transport_name = "sse" if isinstance(machine, HTTPStreamProtocol) else "sse-single"
        self._started = False
        self._ended = False  # the session is over: shut down, or its response is complete
        self._body_done = False  # the outbox wrote the end of the body, or found the client gone
        self._waiter: asyncio.Task[Any] | None = None
        self._heartbeat: asyncio.TimerHandle | None = None

    @property
    def open(self) -> bool:
        return not self._ended

    async def run(self, context: ContextValue) -> None:
        """Start the admitted client's operations and stream until the last frame or the client leaves; or,
        with too many connections open (from this client or in all), or while shutting down, answer 503 at once."""
        if draining(self.runtime):
            self._started = self._ended = True
            await self._respond_error(
                HTTPStatus.SERVICE_UNAVAILABLE, SHUTTING_DOWN, (retry_after_header(self.settings),)
            )
            return
        limits, client = self.runtime.connections, client_address(self.request.scope)
        if not limits.acquire(client):
            self._started = self._ended = True
            retry = ((b"retry-after", str(RETRY_AFTER_SECONDS).encode()),)
            await self._respond_error(HTTPStatus.SERVICE_UNAVAILABLE, TOO_MANY_CONNECTIONS, retry)
            return
        try:
            await self._stream(context)
        finally:
            limits.release(client)

    async def _stream(self, context: ContextValue) -> None:
        self._waiter = asyncio.current_task()
        self._register()  # until _shut_down
        self._schedule_heartbeat()
        try:
            async with OperationGroup() as group:
                self.runner.group = group
                try:
                    self.runner.adopt(context)
                    await self._wait_for_disconnect()
                except asyncio.CancelledError:
                    if not self._body_done:
                        await self._end_for_shutdown()
                    raise
                finally:
                    self._shut_down()
        except asyncio.CancelledError:
            task = self._waiter
            if not self._body_done or task is None:
                raise  # cancelled from outside (server shutdown)
            task.uncancel()  # the body ended: the response is complete, as designed

    async def _end_for_shutdown(self) -> None:
        """Cancelled from outside (the server's graceful shutdown ran out): end the body properly, so the
        client sees a finished response (SSE: no `complete`, so it reconnects; multipart: a fatal error part)
        rather than a connection cut mid-chunk. Best effort, bounded, and only when no write is in flight."""
        if not self._started or self.outbox.busy or self.machine.state is State.CLOSED:
            return
        preamble = self._restart_preamble()
        self.machine.close(CloseCode.GOING_AWAY, GOING_AWAY)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.settings.close_timeout):
                for frame in [*preamble, *self.machine.data_to_send()]:
                    await self._write(frame)

    @property
    def task(self) -> asyncio.Task[Any] | None:
        return self._waiter

    def _before_restart(self) -> None:
        self.outbox.extend(self._restart_preamble())

    def _restart_preamble(self) -> list[Output]:
        """An open SSE stream is told when to reconnect (a random delay in `shutdown_retry_window`), so the
        clients of a restarting server spread out; it then resumes from its Last-Event-ID."""
        if self._event_stream and self.machine.state is State.ACKNOWLEDGED:
            return [retry_field(round(retry_delay(self.settings) * 1000))]
        return []

    def feed(self) -> None:
        """Run what the machine received from another request (single connection mode's POST and DELETE)."""
        self.runner.handle(self.machine.events_received())
        self.flush()

    async def _wait_for_disconnect(self) -> None:
        while not self._ended:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                return

    def _shut_down(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        self._ended = True
        super()._shut_down()

    def _schedule_heartbeat(self) -> None:
        interval = self.settings.keepalive_interval
        if interval is not None:
            self._heartbeat = asyncio.get_running_loop().call_later(interval, self._beat)

    def _beat(self) -> None:
        if self.machine.state is State.CLOSED:
            return
        send_keepalive = getattr(self.machine, "send_keepalive", None)
        # Frames still waiting say more than a heartbeat would, and a client that stopped reading must not
        # collect one per interval past the queue's limit.
        if send_keepalive is not None and not self.outbox.busy:
            send_keepalive()
            self.flush()
        self._schedule_heartbeat()

    def _write(self, frame: Output) -> Coroutine[Any, Any, None]:
        if isinstance(frame, Close):
            return self._end(frame)
        if not self._started:
            return self._start(frame)
        body = {"type": "http.response.body", "body": frame.encode(), "more_body": True}
        return self._send(body)  # type: ignore[return-value]

    async def _start(self, frame: str) -> None:
        self._started = True
        headers = [(b"content-type", self._content_type), *STREAM_HEADERS]
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})
        await self._send({"type": "http.response.body", "body": frame.encode(), "more_body": True})

    async def _end(self, close: Close) -> None:
        if self._started:
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        self._started = True
        status = _STATUS_BEFORE_START.get(close.code, HTTPStatus.INTERNAL_SERVER_ERROR)
        await self._respond_error(status, close.reason or status.phrase)

    async def _respond_error(
        self, status: HTTPStatus, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()
    ) -> None:
        body = error_body(message)
        headers = [(b"content-type", _JSON), (b"content-length", str(len(body)).encode()), *extra]
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})

    def _finished(self) -> None:
        """The body ended (or the client is gone): stop waiting, end the response."""
        self._body_done = self._ended = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.cancel()
