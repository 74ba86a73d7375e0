"""Keep-alives never pile up behind a client that stopped reading: with frames still waiting in a session's
outbox, a heartbeat (SSE comment, multipart part) or a ping is skipped, so the queue cannot grow past its limit
one keep-alive per interval."""

import asyncio
from collections.abc import MutableMapping
from typing import Any

from starlette.requests import Request

from livegql import LiveGQL
from livegql.protocol import SubscribePayload
from livegql.protocol.http_stream import HTTPStreamProtocol
from livegql.protocol.sse import SSEFraming
from livegql.transport.stream import HTTPStreamSession
from tests.support.schema import SDL, make_resolvers


class StalledClient:
    """An ASGI `send` that takes the response head and then never lets another write complete."""

    def __init__(self) -> None:
        self.started = False
        self.blocked = asyncio.Event()

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            return
        self.blocked.set()
        await asyncio.get_running_loop().create_future()  # never completes


async def test_heartbeats_are_skipped_while_frames_wait_for_a_stalled_client() -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), keepalive_interval=None)
    client = StalledClient()

    async def receive() -> dict[str, Any]:
        await asyncio.get_running_loop().create_future()  # the client never disconnects
        return {}

    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/graphql", "query_string": b""})
    machine = HTTPStreamProtocol(SSEFraming(), SubscribePayload('subscription { topic(name: "t") }'))
    session = HTTPStreamSession(
        request, app.runtime, client.send, receive, machine, content_type=SSEFraming.content_type
    )
    running = asyncio.get_running_loop().create_task(session.run({"pubsub": app.pubsub}))
    try:
        async with asyncio.timeout(5):
            await client.blocked.wait()  # the opening comment's write is stuck: the outbox is busy
        waiting = len(session.outbox)
        for _ in range(50):
            session._beat()  # what the heartbeat timer does every keepalive_interval
        assert len(session.outbox) == waiting
        assert session.outbox.busy
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await app.close()
