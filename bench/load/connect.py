"""Opening the subscribed clients of a scenario, with the server CPU time each client cost.

Two measured windows: connect (TCP, WebSocket upgrade, `connection_init` until `connection_ack`) and subscribe
(the `subscribe` message). The second ends at a barrier: after its `subscribe`, every socket sends a
graphql-transport-ws `ping`, and the window closes once every `pong` is back. A server handles one socket's
messages in order, so by then it has taken every subscription in. Checking that the subscriptions are live
(a warm-up event everyone receives) comes after, outside both windows.
"""

import time
from collections.abc import Callable
from typing import Any

import orjson

from bench.load.session import open_sessions
from bench.load.stats import CpuWindow, server_cpu_us_per
from bench.load.tracking import Countdown
from bench.load.ws import WebSocketClient

PING = b'{"type":"ping"}'
BARRIER_TIMEOUT = 60.0


async def ping_all(clients: list[WebSocketClient], seconds: float) -> int:
    """Send a graphql-transport-ws `ping` on every socket; return how many answered `pong` within `seconds`.

    Each socket's own message handler is kept for everything else and restored afterwards.
    """
    answered = Countdown(len(clients))
    handlers = [client.on_message for client in clients]

    def intercept(own: Callable[[bytes], None]) -> Callable[[bytes], None]:
        def on_message(raw: bytes) -> None:
            if b'"pong"' in raw and orjson.loads(raw).get("type") == "pong":
                answered.tick()
            else:
                own(raw)

        return on_message

    for client, own in zip(clients, handlers, strict=True):
        client.on_message = intercept(own)
        client.send_text(PING)
    try:
        await answered.wait(seconds)
    finally:
        for client, own in zip(clients, handlers, strict=True):
            client.on_message = own
    return len(clients) - max(answered.left, 0)


async def connect_and_subscribe(
    address: tuple[str, int, str],
    pid: int,
    subscribe: Callable[[WebSocketClient], None],
    *,
    count: int,
    concurrency: int,
    on_connected: Callable[[], None] = lambda: None,
) -> tuple[list[WebSocketClient], dict[str, Any]]:
    """`count` acknowledged sockets, each passed to `subscribe` (which sets its handler and sends `subscribe`).

    `on_connected` runs between the two windows (to read the server's RSS, say). The caller closes the sockets.
    """
    host, port, path = address
    connect_cpu = CpuWindow(pid)
    connect_cpu.start()
    began = time.perf_counter()
    clients = await open_sessions(host, port, path, count, concurrency)
    connect_s = time.perf_counter() - began
    connected = connect_cpu.stop()
    on_connected()
    subscribe_cpu = CpuWindow(pid)
    subscribe_cpu.start()
    for client in clients:
        subscribe(client)
    answered = await ping_all(clients, BARRIER_TIMEOUT)
    subscribed = subscribe_cpu.stop()
    both = {"server_cpu_s": connected["server_cpu_s"] + subscribed["server_cpu_s"]}
    return clients, {
        "clients": count,
        "connect_s": connect_s,
        "connects_per_s": count / connect_s if connect_s > 0 else None,
        "connect_cpu": connected,
        "subscribe_cpu": subscribed,
        "barrier_pongs": answered,
        "connect_cpu_us_per_client": server_cpu_us_per(connected, count),
        "subscribe_cpu_us_per_client": server_cpu_us_per(subscribed, count),
        "connect_subscribe_cpu_us_per_client": server_cpu_us_per(both, count),
    }
