"""Conformance adapters for the WebSocket protocols: graphql-transport-ws, legacy graphql-ws, plain mode.

One reader task per socket routes each frame to its operation's queue by id; a close ends every queue.
"""

import asyncio
import contextlib
import itertools
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from livegql.core import json
from tests.conformance.base import STEP_TIMEOUT, Outcome, Refused

_END = object()  # queued after an operation's last payload: its completion


class _Operation:
    """An operation's frames as they arrive: payloads, then _END (complete) or an error list, or a close."""

    def __init__(self, socket: "_Socket", id: str) -> None:
        self.socket = socket
        self.id = id
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    async def _take(self) -> Any:
        async with asyncio.timeout(STEP_TIMEOUT):
            item = await self.queue.get()
        if isinstance(item, Refused):
            raise item
        return item

    async def next(self) -> dict[str, Any]:
        item = await self._take()
        if item is _END or isinstance(item, list):
            raise AssertionError(f"operation {self.id} ended instead of sending a result: {item!r}")
        payload: dict[str, Any] = item
        return payload

    async def ended(self) -> bool | None:
        if not self.socket.completes:
            return None
        return await self._take() is _END

    async def outcome(self) -> Outcome:
        outcome = Outcome()
        while True:
            item = await self._take()
            if item is _END:
                return outcome
            if isinstance(item, list):
                outcome.error = item
                return outcome
            outcome.results.append(item)
            if not self.socket.completes:
                return outcome  # plain mode: a query's one result is its end

    async def cancel(self) -> None:
        await self.socket.stop(self.id)


class _Socket:
    """One connected socket of any of the three protocols; subclasses name the messages."""

    subprotocol: str | None = None
    completes = True

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.operations: dict[str, _Operation] = {}
        self.ids = (str(n) for n in itertools.count(1))
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                self.route(json.loads(raw))
        except ConnectionClosed:
            pass
        refusal = Refused(self.connection.close_code or 1006, self.connection.close_reason or "")
        for operation in self.operations.values():
            operation.queue.put_nowait(refusal)

    def route(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    def deliver(self, id: str | None, item: Any) -> None:
        operation = self.operations.get(id or "")
        if operation is not None:
            operation.queue.put_nowait(item)

    async def send(self, message: dict[str, Any]) -> None:
        try:
            await self.connection.send(json.dumps(message))
        except ConnectionClosed:
            raise Refused(self.connection.close_code or 1006, self.connection.close_reason or "") from None

    async def start(self, query: str, variables: dict[str, Any] | None) -> _Operation:
        operation = _Operation(self, next(self.ids))
        self.operations[operation.id] = operation
        await self.send(self.subscribe_message(operation.id, {"query": query, "variables": variables}))
        return operation

    def subscribe_message(self, id: str, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def stop(self, id: str) -> None:
        raise NotImplementedError

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> Outcome:
        return await (await self.start(query, variables)).outcome()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> _Operation:
        return await self.start(query, variables)

    async def aclose(self) -> None:
        await self.connection.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


class TransportWS(_Socket):
    subprotocol = "graphql-transport-ws"

    def route(self, message: dict[str, Any]) -> None:
        kind, id = message.get("type"), message.get("id")
        if kind in ("next", "error"):  # a result, or the operation's error list: outcome() tells them apart
            self.deliver(id, message["payload"])
        elif kind == "complete":
            self.deliver(id, _END)
        elif kind == "ping":
            asyncio.get_running_loop().create_task(self.send({"type": "pong"}))

    def subscribe_message(self, id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"type": "subscribe", "id": id, "payload": payload}

    async def stop(self, id: str) -> None:
        await self.send({"type": "complete", "id": id})


class LegacyWS(_Socket):
    subprotocol = "graphql-ws"

    def route(self, message: dict[str, Any]) -> None:
        kind, id = message.get("type"), message.get("id")
        if kind == "data":
            self.deliver(id, message["payload"])
        elif kind == "error":
            payload = message["payload"]
            self.deliver(id, payload if isinstance(payload, list) else [payload])
        elif kind == "complete":
            self.deliver(id, _END)

    def subscribe_message(self, id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"type": "start", "id": id, "payload": payload}

    async def stop(self, id: str) -> None:
        await self.send({"type": "stop", "id": id})


class PlainWS(_Socket):
    """No subprotocol: one request at a time, each result one message, no completion message."""

    completes = False

    def route(self, message: dict[str, Any]) -> None:
        # Only the latest request runs: its results are the only ones the server sends.
        latest = max(self.operations, key=int, default=None)
        self.deliver(latest, message)

    def subscribe_message(self, id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    async def stop(self, id: str) -> None:
        # A plain client stops a subscription by asking for something else: the new request replaces it.
        await self.run("{ __typename }")


async def connect_ws(kind: type[_Socket], url: str, token: str) -> _Socket:
    """Open and initialise a socket of `kind`; raises Refused with the close the server answered with."""
    offered = [Subprotocol(kind.subprotocol)] if kind.subprotocol else None
    headers = {"authorization": f"Bearer {token}"} if kind is PlainWS else None
    connection = await websockets.connect(url, subprotocols=offered, additional_headers=headers, open_timeout=5)
    if kind is PlainWS:
        return await _await_verdict(PlainWS(connection))
    await connection.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    try:
        async with asyncio.timeout(STEP_TIMEOUT):
            while True:
                message = json.loads(await connection.recv())
                if message.get("type") == "connection_ack":
                    return kind(connection)
    except ConnectionClosed:
        raise Refused(connection.close_code or 1006, connection.close_reason or "") from None


async def _await_verdict(socket: PlainWS) -> PlainWS:
    """Plain mode has no ack: the first request either answers or meets the refusal's close."""
    outcome = await socket.run("{ __typename }")
    assert outcome.results == [{"data": {"__typename": "Query"}}], outcome
    return socket
