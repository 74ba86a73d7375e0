"""One socket of the client: open it and wait for the ack, queue frames for its writer, read how it ended."""

import asyncio
import contextlib
import errno
from collections import deque
from typing import Final
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import CloseCode as WSCloseCode
from websockets.typing import Subprotocol

from livegql.client.errors import ClientConnectionError, ConnectionClosedError
from livegql.core.errors import ClientError
from livegql.protocol import (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    ClientProtocol,
    Close,
    CloseCode,
    ConnectionAckReceived,
    Output,
)

OUTBOX_LIMIT: Final = 100
"""Frames waiting for the writer before the reader stops reading (a server that pings but never reads)."""
_REFUSED: Final = f"[Errno {errno.ECONNREFUSED}]"  # asyncio's "Multiple exceptions: ..." keeps only text
CLOSE_TIMEOUT: Final = 2.0
"""Seconds a closing handshake may take before the socket is dropped; a live server answers at once."""

# Closes that retrying cannot fix: the server refused us or one side broke the protocol. As graphql-ws's
# client does, with one change: 1011 is retried, since websockets uses it when a keepalive ping times out.
FATAL_CLOSE_CODES: Final = frozenset(
    {
        CloseCode.BAD_REQUEST,
        CloseCode.UNAUTHORIZED,
        CloseCode.FORBIDDEN,
        CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE,
        CloseCode.SUBSCRIBER_ALREADY_EXISTS,
        CloseCode.TOO_MANY_INITIALISATION_REQUESTS,
        CloseCode.BAD_RESPONSE,
        CloseCode.INTERNAL_CLIENT_ERROR,
        CloseCode.INTERNAL_SERVER_ERROR,
        WSCloseCode.PROTOCOL_ERROR,
        WSCloseCode.UNSUPPORTED_DATA,
        WSCloseCode.INVALID_DATA,
        WSCloseCode.POLICY_VIOLATION,
        WSCloseCode.MESSAGE_TOO_BIG,
        WSCloseCode.MANDATORY_EXTENSION,
    }
)


class Session:
    """An acknowledged socket to `url` and its machine. Only the writer task sends, so frames keep their order."""

    def __init__(self, url: str, connection: ClientConnection, machine: ClientProtocol) -> None:
        self.url = url
        self.connection = connection
        self.machine = machine
        self._outbox: deque[Output] = deque()
        self._has_frames = asyncio.Event()
        self._has_room = asyncio.Event()
        self._has_room.set()

    def flush(self) -> None:
        """Queue what the machine wants sent; call after every machine call. Never awaits."""
        frames = self.machine.data_to_send()
        if frames:
            self._outbox.extend(frames)
            self._has_frames.set()
            if len(self._outbox) >= OUTBOX_LIMIT:
                self._has_room.clear()

    async def wait_for_room(self) -> None:
        await self._has_room.wait()

    async def write(self) -> None:
        """The writer: send queued frames in order until a Close has been sent or the socket is gone."""
        try:
            while True:
                while not self._outbox:
                    self._has_frames.clear()
                    await self._has_frames.wait()
                frame = self._outbox.popleft()
                if len(self._outbox) < OUTBOX_LIMIT:
                    self._has_room.set()
                if isinstance(frame, Close):
                    await self.connection.close(frame.code, frame.reason)
                    return
                await self.connection.send(frame)
        except ConnectionClosed:
            pass  # the reader receives the same close and reports it
        finally:
            self._has_room.set()  # nothing waits for this writer any more

    async def close(self) -> None:
        """Close normally from our side, without the writer (it is stopped by then)."""
        self.machine.close()
        await self.connection.close(CloseCode.NORMAL_CLOSURE, "Normal Closure")


async def open_session(url: str, params: dict[str, object] | None, limit: float) -> Session:
    """Connect, send ConnectionInit and wait for ConnectionAck, all within `limit` seconds."""
    deadline = asyncio.get_running_loop().time() + limit
    connection = await _connect(url, limit)
    machine = ClientProtocol(params)
    machine.initiate()
    try:
        async with asyncio.timeout_at(deadline):
            await _handshake(connection, machine)
    except TimeoutError:
        machine.ack_timeout_expired()
        with contextlib.suppress(ConnectionClosed):
            await _send_now(connection, machine)
        raise ClientConnectionError(f"{url} sent no connection_ack within {limit:g}s") from None
    except ConnectionClosed as closed:
        raise closed_error(closed) from None
    except BaseException:
        await connection.close(CloseCode.NORMAL_CLOSURE, "Normal Closure")
        raise
    return Session(url, connection, machine)


async def _connect(url: str, limit: float) -> ClientConnection:
    try:
        return await websockets.connect(
            url,
            subprotocols=[Subprotocol(GRAPHQL_TRANSPORT_WS_PROTOCOL)],
            open_timeout=limit,
            close_timeout=CLOSE_TIMEOUT,
        )
    except InvalidStatus as error:
        status = error.response.status_code
        raise ClientConnectionError(f"{url} refused the WebSocket upgrade with HTTP {status}") from error
    except InvalidHandshake as error:
        raise ClientConnectionError(f"WebSocket handshake with {url} failed: {error}") from error
    except TimeoutError:
        raise ClientConnectionError(f"{url} did not accept a WebSocket within {limit:g}s") from None
    except OSError as error:
        raise ClientConnectionError(f"cannot connect to {address_of(url)}: {connect_reason(error)}") from error


async def _handshake(connection: ClientConnection, machine: ClientProtocol) -> None:
    """Until the ack: send what the machine queued (ConnectionInit, Pongs, a Close), feed it what arrives."""
    while True:
        await _send_now(connection, machine)
        machine.receive_text(await connection.recv())
        if any(isinstance(event, ConnectionAckReceived) for event in machine.events_received()):
            await _send_now(connection, machine)
            return


async def _send_now(connection: ClientConnection, machine: ClientProtocol) -> None:
    for frame in machine.data_to_send():
        if isinstance(frame, Close):
            await connection.close(frame.code, frame.reason)
        else:
            await connection.send(frame)


def closed_error(closed: ConnectionClosed) -> ConnectionClosedError:
    """The close that ended the socket: the one we sent if we closed first, else the server's (1006 if none)."""
    frame = closed.sent if closed.sent is not None and closed.rcvd_then_sent is not True else closed.rcvd
    if frame is None:
        return ConnectionClosedError(WSCloseCode.ABNORMAL_CLOSURE, "connection lost")
    return ConnectionClosedError(frame.code, frame.reason)


def is_fatal(error: ClientError) -> bool:
    """Whether reconnecting after this failure is pointless."""
    return isinstance(error, ConnectionClosedError) and error.close_code in FATAL_CLOSE_CODES


def address_of(url: str) -> str:
    """host:port of an http(s) or ws(s) URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    host = parts.hostname or ""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def connect_reason(error: BaseException) -> str:
    """Why connecting failed, in a few words: "connection refused" if any address refused us."""
    pending, seen, first_os_error = [error], set(), None
    while pending:  # httpx and asyncio wrap the socket errors in chains and groups
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or _REFUSED in str(current):
            return "connection refused"
        if isinstance(current, OSError) and first_os_error is None:
            first_os_error = current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(link for link in (current.__cause__, current.__context__) if link is not None)
    described = first_os_error or error
    strerror = described.strerror if isinstance(described, OSError) else None
    return strerror or str(described) or type(described).__name__
