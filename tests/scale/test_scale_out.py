"""Several `livegql serve` processes sharing one Redis: every subscriber, on whichever process, receives every
event published through any process, exactly once and in order; also while Redis restarts and when a server
process is SIGKILLed (its clients fail over to the other process and resume)."""

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from livegql.client import Client
from tests.scale.harness import Publisher, open_clients, run_and_check, subscribe_all
from tests.support.processes import ServerProcess, serve_process
from tests.support.redis import RedisServer, redis_url_or_skip

APP = "tests.support.scale_app:app"
# The acceptance sizes: 1,000 subscribers, 10,000 events (100 topics x 100 events, 10 subscribers a topic).
TOPICS = int(os.environ.get("LIVEGQL_SCALE_TOPICS", "100"))
SUBSCRIBERS_PER_TOPIC = 10
EVENTS_PER_TOPIC = 100
SUBSCRIPTIONS_PER_CLIENT = 5

pytestmark = pytest.mark.timeout(180)


@contextmanager
def _servers(broker_url: str, count: int = 2) -> Iterator[list[ServerProcess]]:
    with ExitStack() as stack:
        yield [stack.enter_context(serve_process(APP, "--broker", broker_url)) for _ in range(count)]


@pytest.fixture
def broker_url() -> str:
    """The machine's Redis, with a key prefix of this test's own."""
    return f"{redis_url_or_skip()}?key_prefix=livegql-scale-{uuid.uuid4().hex}:"


async def _spread_subscribers(servers: list[ServerProcess]) -> tuple[list[Client], list[tuple[Client, str]]]:
    """Half of each topic's subscribers on each process; each client lists the other process as failover."""
    topics = [f"topic-{n}" for n in range(TOPICS)]
    plan_by_server: list[list[str]] = [[], []]
    for topic in topics:
        for index in range(SUBSCRIBERS_PER_TOPIC):
            plan_by_server[index % 2].append(topic)
    urls = [[servers[0].ws_url, servers[1].ws_url], [servers[1].ws_url, servers[0].ws_url]]
    chunks: list[tuple[int, list[str]]] = []
    for side, planned in enumerate(plan_by_server):
        for start in range(0, len(planned), SUBSCRIPTIONS_PER_CLIENT):
            chunks.append((side, planned[start : start + SUBSCRIPTIONS_PER_CLIENT]))
    clients = await open_clients([urls[side] for side, _ in chunks])
    plan = [(client, topic) for client, (_, chunk) in zip(clients, chunks, strict=True) for topic in chunk]
    return clients, plan


async def _close(clients: list[Client]) -> None:
    await asyncio.gather(*(client.aclose() for client in clients), return_exceptions=True)


def _topics() -> list[str]:
    return [f"topic-{n}" for n in range(TOPICS)]


async def test_two_processes_one_redis_deliver_every_event_once_in_order(broker_url: str) -> None:
    with _servers(broker_url) as servers:
        clients, plan = await _spread_subscribers(servers)
        try:
            async with Publisher([server.ws_url for server in servers]) as publisher:
                subscribers = await subscribe_all(plan)
                assert len(subscribers) == TOPICS * SUBSCRIBERS_PER_TOPIC
                await run_and_check(subscribers, publisher, _topics(), EVENTS_PER_TOPIC)
                assert publisher.failures == 0
        finally:
            await _close(clients)


async def test_redis_restarted_mid_stream_loses_nothing(tmp_path_factory: pytest.TempPathFactory) -> None:
    with RedisServer(tmp_path_factory.mktemp("redis")) as redis, _servers(redis.url) as servers:
        clients, plan = await _spread_subscribers(servers)
        try:
            async with Publisher([server.ws_url for server in servers]) as publisher:
                subscribers = await subscribe_all(plan)
                run = asyncio.create_task(run_and_check(subscribers, publisher, _topics(), EVENTS_PER_TOPIC))
                await publisher.reached(TOPICS * EVENTS_PER_TOPIC // 3)
                redis.stop()
                await publisher.failed_more_than(publisher.failures)  # the publishers saw the outage
                redis.start()
                await run
            # Nobody reconnected: the servers rode out the outage with every client's socket open.
            assert [client.connected_url for client in clients] == [client.urls[0] for client in clients]
            assert all(client.connects == 1 for client in clients)
        finally:
            await _close(clients)


async def test_a_server_process_killed_mid_stream_its_clients_resume_on_the_other(broker_url: str) -> None:
    with _servers(broker_url) as servers:
        clients, plan = await _spread_subscribers(servers)
        try:
            async with Publisher([server.ws_url for server in servers]) as publisher:
                subscribers = await subscribe_all(plan)
                run = asyncio.create_task(run_and_check(subscribers, publisher, _topics(), EVENTS_PER_TOPIC))
                await publisher.reached(TOPICS * EVENTS_PER_TOPIC // 3)
                servers[0].kill()
                await run
            moved = [client for client in clients if client.urls[0] == servers[0].ws_url]
            assert moved
            assert all(client.connected_url == servers[1].ws_url for client in moved)
        finally:
            await _close(clients)
