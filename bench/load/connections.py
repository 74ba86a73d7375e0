"""Scenario `connections`: C idle, initialised WebSocket connections; server RSS per connection."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson

from bench.load.session import PONG, open_session, open_sessions
from bench.load.ws import WebSocketClient
from bench.procfs import rss_bytes

SETTLE_SECONDS = 1.0
PING_TIMEOUT = 10.0


@dataclass
class ConnectionsParams:
    connections: int
    connect_concurrency: int = 64


async def _count_alive(clients: list[WebSocketClient]) -> int:
    """Send a graphql-transport-ws `ping` on every socket; those that answer `pong` are still served."""
    answered: set[int] = set()
    everyone = asyncio.Event()

    def handler(index: int, client: WebSocketClient) -> None:
        def on_message(raw: bytes) -> None:
            kind = orjson.loads(raw).get("type")
            if kind == "ping":
                client.send_text(PONG)
            elif kind == "pong":
                answered.add(index)
                if len(answered) == len(clients):
                    everyone.set()

        client.on_message = on_message

    for index, client in enumerate(clients):
        handler(index, client)
        client.send_text(b'{"type":"ping"}')
    try:
        async with asyncio.timeout(PING_TIMEOUT):
            await everyone.wait()
    except TimeoutError:
        pass
    return len(answered)


async def run_connections(host: str, port: int, path: str, pid: int, params: ConnectionsParams) -> dict[str, Any]:
    # One connection first, so lazily imported code and first-use caches are not counted per connection.
    (await open_session(host, port, path)).close()
    await asyncio.sleep(SETTLE_SECONDS)
    before = rss_bytes(pid)
    began = time.perf_counter()
    clients = await open_sessions(host, port, path, params.connections, params.connect_concurrency)
    connect_s = time.perf_counter() - began
    try:
        await asyncio.sleep(SETTLE_SECONDS)
        after = rss_bytes(pid)
        alive = await _count_alive(clients)
    finally:
        for client in clients:
            client.close()
    return {
        "connections": params.connections,
        "rss_before_mib": before / 2**20,
        "rss_after_mib": after / 2**20,
        "rss_per_connection_kib": (after - before) / params.connections / 1024,
        "connect_s": connect_s,
        "connections_per_s": params.connections / connect_s,
        "alive": alive,
    }
