"""A minimal RFC 6455 client as an asyncio.Protocol: cheap enough that thousands of sockets in one process
measure the server, not the client. No extensions (no permessage-deflate), so every server sends plain frames.
"""

import asyncio
import base64
import hashlib
import os
from collections.abc import Callable
from typing import cast

from bench.load.wire import parse_head

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _BINARY, _CONTINUATION, _CLOSE, _PING, _PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
_FIN = 0x80


class HandshakeError(Exception):
    """The server did not switch protocols the way we asked."""


def _mask(payload: bytes, key: bytes) -> bytes:
    # One big-int XOR: far faster in CPython than a per-byte loop for the short frames we send.
    if not payload:
        return payload
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A single masked client frame (clients must mask, RFC 6455 section 5.3)."""
    key = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = bytes((_FIN | opcode, 0x80 | length))
    elif length < 1 << 16:
        header = bytes((_FIN | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((_FIN | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
    return header + key + _mask(payload, key)


class WebSocketClient(asyncio.Protocol):
    """One client socket. Set `on_message` before the server can send; it gets each text/binary message."""

    def __init__(self, host: str, port: int, path: str, subprotocol: str) -> None:
        self.on_message: Callable[[bytes], None] = lambda _: None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.close_reason: str | None = None  # of the server's Close frame, if one came
        self.lost_error: str | None = None  # why the TCP connection ended, if not by a clean EOF
        self._key = base64.b64encode(os.urandom(16))
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
        ).encode()
        self._subprotocol = subprotocol.encode()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._handshaking = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost_error = None if exc is None else repr(exc)
        if not self.opened.done():
            self.opened.set_exception(exc or HandshakeError("connection closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def send_text(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(encode_frame(_TEXT, data))

    def close(self) -> None:
        """Close without the closing handshake: the benchmark is done with this socket."""
        if self._transport is not None:
            self._transport.close()

    def pause_reading(self) -> None:
        """Stop calling recv on the socket: what the server sends stays in the kernel's buffers, then its own."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    @property
    def local_port(self) -> int | None:
        name = None if self._transport is None else self._transport.get_extra_info("sockname")
        return None if name is None else int(name[1])

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._handshaking and not self._finish_handshake():
            return
        self._read_frames()

    def _finish_handshake(self) -> bool:
        head = parse_head(self._buffer)
        if head is None:
            return False
        status, headers, size = head
        accept = base64.b64encode(hashlib.sha1(self._key + _GUID).digest())
        if status != 101 or headers.get(b"sec-websocket-accept") != accept:
            self.opened.set_exception(HandshakeError(f"status {status}, headers {headers!r}"))
        elif headers.get(b"sec-websocket-protocol") != self._subprotocol:
            self.opened.set_exception(HandshakeError(f"subprotocol {headers.get(b'sec-websocket-protocol')!r}"))
        else:
            self.opened.set_result(None)
            self._handshaking = False
            del self._buffer[:size]
            return True
        self.close()
        return False

    def _read_frames(self) -> None:
        buffer, start, end = self._buffer, 0, len(self._buffer)
        while end - start >= 2:
            first, second = buffer[start], buffer[start + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                if end - start < 4:
                    break
                length, header = int.from_bytes(buffer[start + 2 : start + 4], "big"), 4
            elif length == 127:
                if end - start < 10:
                    break
                length, header = int.from_bytes(buffer[start + 2 : start + 10], "big"), 10
            if end - start < header + length:
                break
            # Servers never mask (RFC 6455 section 5.1), so the payload is the bytes as they are.
            payload = bytes(buffer[start + header : start + header + length])
            start += header + length
            self._handle_frame(first & 0x0F, bool(first & _FIN), payload)
        del buffer[:start]

    def _handle_frame(self, opcode: int, fin: bool, payload: bytes) -> None:
        if opcode in (_TEXT, _BINARY, _CONTINUATION):
            self._fragments.append(payload)
            if fin:
                message = payload if len(self._fragments) == 1 else b"".join(self._fragments)
                self._fragments.clear()
                self.on_message(message)
        elif opcode == _PING and self._transport is not None:
            self._transport.write(encode_frame(_PONG, payload))
        elif opcode == _CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            self.close_reason = payload[2:].decode(errors="replace")
            if not self.closed.done():
                self.closed.set_result(code)
            self.close()
