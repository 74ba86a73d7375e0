"""Small helpers shared by the client tests: server-side counts and a port nobody listens on."""

import socket
from collections.abc import Sequence
from typing import Any

from livegql.client import Client
from tests.support.server import LiveServer
from tests.support.waiting import until


async def subscriber_count(server: LiveServer) -> int:
    async def count() -> int:
        return server.app.pubsub.subscriber_count()

    return await server.acall(count())


async def wait_for_subscribers(server: LiveServer, expected: int) -> None:
    async def reached() -> bool:
        return await subscriber_count(server) == expected

    await until(reached, what=f"{expected} subscriber(s) on the server")


async def publish(server: LiveServer, topic: str, payload: str) -> None:
    await server.acall(server.app.pubsub.publish(topic, payload))


def closed_port() -> int:
    """A loopback port that was free a moment ago: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def fast_client(url: str | Sequence[str], **options: Any) -> Client:
    """A Client whose reconnection backoff is milliseconds, not seconds."""
    return Client(url, backoff_initial=0.01, backoff_max=0.05, **options)
