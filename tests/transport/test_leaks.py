"""No leaks: completed and abandoned operations leave no subscriber in the broker and no task on the server."""

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import pytest

from livegql import LiveGQL, PubSub
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer
from tests.support.waiting import until
from tests.support.wsclient import RawPeer, connect

BATCH = 100


@pytest.fixture
def app(pubsub: PubSub) -> LiveGQL:
    """The shared app, but churning subscriptions as fast as one socket can: no subscribe rate limit."""
    return LiveGQL(
        SDL, resolvers=make_resolvers(), pubsub=pubsub, keepalive_interval=None, max_subscribes_per_second=1e9
    )


def subscriber_count_is(server: LiveServer, expected: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        async def count() -> int:
            return server.app.pubsub.subscriber_count()

        return await server.acall(count()) == expected

    return check


async def tasks_back_to(server: LiveServer, baseline: int) -> None:
    async def settled() -> bool:
        return await asyncio.to_thread(server.server_tasks) <= baseline

    await until(settled, limit=10, what=f"server tasks to return to {baseline}")


async def test_thousand_subscribe_complete_cycles_leave_nothing_behind(server: LiveServer) -> None:
    baseline = await asyncio.to_thread(server.server_tasks)
    async with connect(server.ws_url) as peer:
        await peer.init()
        for batch in range(1000 // BATCH):
            ids = [f"{batch}-{n}" for n in range(BATCH)]
            for id in ids:
                # Distinct topics: identical subscriptions would share one broker subscriber.
                await peer.subscribe(id, f'subscription {{ topic(name: "leak-{id}") }}')
            await until(subscriber_count_is(server, BATCH), what=f"batch {batch} to subscribe")
            for id in ids:
                await peer.send({"id": id, "type": "complete"})
            await until(subscriber_count_is(server, 0), what=f"batch {batch} to be released")
        # The connection still works after all that churn.
        await peer.subscribe("after", "{ hello }")
        assert (await peer.receive())["type"] == "next"
    assert server.app.pubsub.topic_count() == 0
    assert server.app.subscriptions.stream_count == 0
    await tasks_back_to(server, baseline)


async def test_two_hundred_abrupt_disconnects_leave_nothing_behind(server: LiveServer) -> None:
    baseline = await asyncio.to_thread(server.server_tasks)
    for _ in range(4):
        async with AsyncExitStack() as stack:
            peers: list[RawPeer] = []
            for _ in range(50):
                peer = await stack.enter_async_context(connect(server.ws_url))
                await peer.init()
                await peer.subscribe("s", f'subscription {{ topic(name: "gone-{len(peers)}") }}')
                peers.append(peer)
            await until(subscriber_count_is(server, 50), what="50 subscribers")
            for peer in peers:
                peer.connection.transport.abort()  # no close frame: the TCP connection just dies
            await until(subscriber_count_is(server, 0), limit=10, what="aborted subscribers to be released")
    assert server.app.pubsub.topic_count() == 0
    await tasks_back_to(server, baseline)
