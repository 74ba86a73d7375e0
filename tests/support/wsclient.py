"""A raw graphql-transport-ws peer for end-to-end tests: JSON frames in and out, close codes observed."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from livegql.core import json

RECEIVE_TIMEOUT = 5.0


class RawPeer:
    """Sends and receives protocol messages as dicts; every wait is bounded."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, limit: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        async with asyncio.timeout(limit):
            frame = await self.connection.recv()
        message: dict[str, Any] = json.loads(frame)
        return message

    async def receive_type(self, type_: str, limit: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """Next message of `type_`, skipping server keep-alive pings."""
        while True:
            message = await self.receive(limit)
            if message["type"] == type_:
                return message
            if message["type"] != "ping":
                raise AssertionError(f"expected {type_}, got {message}")

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.send({"type": "connection_init", **({"payload": payload} if payload else {})})
        return await self.receive_type("connection_ack")

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": id, "type": "subscribe", "payload": payload})

    async def closed(self, limit: float = RECEIVE_TIMEOUT) -> tuple[int | None, str]:
        """Wait for the server to close; returns (code, reason). Fails on any data frame meanwhile."""
        try:
            async with asyncio.timeout(limit):
                while True:
                    frame = await self.connection.recv()
                    message = json.loads(frame)
                    if message.get("type") != "ping":
                        raise AssertionError(f"expected a close, got {message}")
        except ConnectionClosed as closed:
            if closed.rcvd is None:
                return None, ""
            return closed.rcvd.code, closed.rcvd.reason
        raise AssertionError("unreachable")


@asynccontextmanager
async def connect(url: str, subprotocols: Sequence[str] = ("graphql-transport-ws",)) -> AsyncIterator[RawPeer]:
    """Open a socket offering `subprotocols` (none at all when empty: no Sec-WebSocket-Protocol header)."""
    offered = [Subprotocol(name) for name in subprotocols] or None
    async with websockets.connect(url, subprotocols=offered, open_timeout=5) as connection:
        yield RawPeer(connection)
