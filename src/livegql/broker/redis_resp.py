"""A small RESP2 reader for the pub/sub connection: parses every complete reply in each chunk read.

redis-py's pure-Python parser awaits the socket for every line of every reply, which caps one process at a
few thousand messages a second; the pub/sub stream only carries flat arrays of bulk strings and integers,
which this reads straight from the connection's buffer after redis-py has done the handshake.
"""

import asyncio
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

_CHUNK = 1 << 16
_MESSAGE = b"*3\r\n$7\r\nmessage\r\n"  # the prefix of every published message: the hot case, parsed inline


class ReplyReader:
    """Replies from one stream, in order; raises ConnectionError at EOF and ResponseError for an error."""

    __slots__ = ("_buffer", "_stream")

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream
        self._buffer = b""

    async def batch(self) -> list[Any]:
        """The replies completed by the next chunk from the socket (waits for one at least)."""
        replies: list[Any] = []
        while not replies:
            data = await self._stream.read(_CHUNK)
            if not data:
                raise RedisConnectionError("Redis closed the pub/sub connection")
            buffer = self._buffer + data if self._buffer else data
            position = _parse_all(buffer, replies)
            self._buffer = buffer[position:]
        return replies


def _parse_all(buffer: bytes, replies: list[Any]) -> int:
    """Append every complete reply in `buffer` to `replies`; return where the incomplete rest starts."""
    position, size, prefix = 0, len(buffer), len(_MESSAGE)
    while position < size:
        if buffer.startswith(_MESSAGE, position):
            parsed = _bulk_pair(buffer, position + prefix)
            if parsed is None:
                return position
            channel, data, position = parsed
            replies.append([b"message", channel, data])
            continue
        reply = _parse(buffer, position)
        if reply is None:
            return position
        value, position = reply
        if isinstance(value, ResponseError):
            raise value
        replies.append(value)
    return position


def _bulk_pair(buffer: bytes, position: int) -> tuple[bytes, bytes, int] | None:
    first = _parse(buffer, position)
    if first is None:
        return None
    second = _parse(buffer, first[1])
    if second is None:
        return None
    return first[0], second[0], second[1]


def _parse(buffer: bytes, position: int) -> tuple[Any, int] | None:
    """One reply at `position` and where the next starts, or None if it is not all there yet."""
    end = buffer.find(b"\r\n", position)
    if end < 0:
        return None
    kind, header = buffer[position], buffer[position + 1 : end]
    if kind == 36:  # $ bulk string
        length = int(header)
        if length < 0:
            return None, end + 2
        start = end + 2
        stop = start + length
        if len(buffer) < stop + 2:
            return None
        return buffer[start:stop], stop + 2
    if kind == 42:  # * array
        items: list[Any] = []
        position = end + 2
        for _ in range(int(header)):
            item = _parse(buffer, position)
            if item is None:
                return None
            items.append(item[0])
            position = item[1]
        return items, position
    if kind == 58:  # : integer
        return int(header), end + 2
    if kind == 43:  # + simple string
        return header, end + 2
    if kind == 45:  # - error
        return ResponseError(header.decode(errors="replace")), end + 2
    raise RedisConnectionError(f"unexpected RESP2 reply type {chr(kind)!r} on the pub/sub connection")
