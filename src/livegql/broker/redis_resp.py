"""The pub/sub connection's reply reader: hiredis parses every complete reply in each chunk read.

redis-py's own read path awaits the socket once per reply, which caps one process at a few thousand messages
a second; this reads the connection's stream directly, in large chunks, after redis-py has done the handshake.
"""

import asyncio
from typing import Any

import hiredis
import redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from livegql.core.errors import ConfigurationError

_CHUNK = 1 << 16


class ReplyReader:
    """Replies from one stream, in order; raises ConnectionError at EOF and ResponseError for an error."""

    __slots__ = ("_parser", "_stream")

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream
        # No encoding: bulk strings stay bytes. An error reply comes back as a ResponseError (raised in
        # batch()), as redis-py would raise it; bytes that are not RESP make gets() raise ConnectionError,
        # which the listener treats as a lost connection.
        self._parser = hiredis.Reader(protocolError=RedisConnectionError, replyError=ResponseError)

    @classmethod
    def of(cls, connection: AbstractConnection) -> "ReplyReader":
        """A reader of a connected redis-py connection's stream (which the caller then reads alone).

        The stream is the private `_reader` of redis-py's asyncio connection (there in 5.x to 8.x); a
        version without it fails here, at connect time, rather than by reading nothing.
        """
        stream = getattr(connection, "_reader", None)
        if not isinstance(stream, asyncio.StreamReader):
            raise ConfigurationError(
                f"redis-py {redis.__version__} is not supported by livegql's Redis broker: its asyncio "
                "connection has no `_reader` stream after connecting (redis>=8.1,<9 is known to work)"
            )
        return cls(stream)

    async def batch(self) -> list[Any]:
        """The replies completed by the next chunk from the socket (waits for one at least)."""
        replies: list[Any] = []
        parser = self._parser
        while not replies:
            data = await self._stream.read(_CHUNK)
            if not data:
                raise RedisConnectionError("Redis closed the pub/sub connection")
            parser.feed(data)
            # False means "incomplete": RESP2, which this connection speaks, has no boolean replies.
            while (reply := parser.gets()) is not False:
                if isinstance(reply, ResponseError):
                    raise reply
                replies.append(reply)
        return replies
