"""Scenario `connections`: C WebSocket connections, each with one subscription to one of T topics (round-robin),
then events over the T topics paced to R deliveries per second for a fixed time.

Failures are counted, not raised: a connect that fails or a subscription the server never acknowledges (the
`acknowledge` extension: the server says when the subscription is live) is a figure of the result. RSS per
connection is the server's growth from a baseline (one subscribed socket and a warmed-up publisher, so first-use
code and caches are not counted per connection) to all C subscriptions acknowledged, divided by C.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson

from bench.load.errors import ScenarioError
from bench.load.phase import run_phase, subscriber_problems
from bench.load.rooms import publishing_plans, room_topic
from bench.load.session import ProtocolError, open_session
from bench.load.topics import SUBSCRIBE_TOPIC, Progress, Publisher, TopicSubscriber
from bench.load.tracking import Countdown
from bench.load.ws import HandshakeError, WebSocketClient
from bench.procfs import rss_bytes

ACK_TIMEOUT = 60.0
BASELINE_TOPIC = "baseline"


@dataclass
class ConnectionsParams:
    connections: int
    rate: float  # deliveries per second, over all subscribers
    seconds: float  # how long events are published at that rate
    topics: int = 100
    publishers: int = 4  # each owns topics t with t % publishers == p, so each topic's events stay in order
    connect_concurrency: int = 64


class AckedSubscriber(TopicSubscriber):
    """A TopicSubscriber that asks the server to acknowledge its subscription, and counts the acknowledgement."""

    __slots__ = ("acks",)

    def __init__(self, client: WebSocketClient, topic: str, progress: Progress, acks: Countdown) -> None:
        super().__init__(client, topic, progress)
        self.acks = acks

    def subscribe(self) -> None:
        payload = {"query": SUBSCRIBE_TOPIC, "variables": {"name": self.topic}, "extensions": {"acknowledge": True}}
        self.client.send_text(orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}))

    def _on_event(self, payload: dict[str, Any], now: int, raw: bytes) -> None:
        # The acknowledgement is a `next` with only extensions; events carry data (and a position extension).
        if "data" not in payload and (payload.get("extensions") or {}).get("subscribed") is True:
            self.acks.tick()
        else:
            super()._on_event(payload, now, raw)


async def open_counted(
    address: tuple[str, int, str], count: int, concurrency: int
) -> tuple[list[WebSocketClient], list[str]]:
    """Up to `count` acknowledged sessions, at most `concurrency` handshakes in flight; a failure is recorded
    (its reason) and the others go on, so the result says how many failed rather than stopping at the first."""
    gate = asyncio.Semaphore(concurrency)
    opened: list[WebSocketClient] = []
    failures: list[str] = []

    async def one() -> None:
        async with gate:
            try:
                opened.append(await open_session(*address))
            except (OSError, TimeoutError, HandshakeError, ProtocolError) as error:
                failures.append(repr(error))

    async with asyncio.TaskGroup() as group:
        for _ in range(count):
            group.create_task(one())
    return opened, failures


async def subscribe_acked(
    clients: list[WebSocketClient], topic_of: list[str], progress: Progress
) -> tuple[list[AckedSubscriber], int]:
    """Subscribe each client to its topic; return the subscribers and how many were not acknowledged in time."""
    acks = Countdown(len(clients))
    subscribers = [
        AckedSubscriber(client, topic, progress, acks) for client, topic in zip(clients, topic_of, strict=True)
    ]
    for subscriber in subscribers:
        subscriber.subscribe()
    await acks.wait(ACK_TIMEOUT)
    return subscribers, max(acks.left, 0)


async def _baseline(address: tuple[str, int, str], publisher: Publisher) -> list[WebSocketClient]:
    """One subscribed socket that has received an event, so the server has run every path once."""
    progress = Progress()
    client = await open_session(*address)
    subscribers, missing = await subscribe_acked([client], [BASELINE_TOPIC], progress)
    if missing:
        raise ScenarioError("the baseline subscription was not acknowledged")
    subscribers[0].begin_phase(0, 1)
    progress.finished = Countdown(1)
    await publisher.publish(BASELINE_TOPIC, f"0|{time.perf_counter_ns()}")
    if not await progress.finished.wait(ACK_TIMEOUT):
        raise ScenarioError("the baseline event did not arrive")
    return [client]


def _events_per_topic(params: ConnectionsParams) -> int:
    """Events each topic gets so that deliveries (events x subscribers) come to `rate` x `seconds`."""
    return max(1, round(params.rate * params.seconds / params.connections))


async def run_connections(host: str, port: int, path: str, pid: int, params: ConnectionsParams) -> dict[str, Any]:
    if params.connections < params.topics or params.topics % params.publishers:
        raise ScenarioError(f"need a subscriber per topic and topics divisible by publishers, got {params}")
    address = (host, port, path)
    publishers = [Publisher(host, port, path) for _ in range(params.publishers)]
    clients: list[WebSocketClient] = []
    try:
        clients += await _baseline(address, publishers[0])
        rss_before = rss_bytes(pid)
        began = time.perf_counter()
        opened, failures = await open_counted(address, params.connections, params.connect_concurrency)
        connect_s = time.perf_counter() - began
        clients += opened
        progress = Progress()
        topic_of = [room_topic(index % params.topics) for index in range(len(opened))]
        subscribers, unacknowledged = await subscribe_acked(opened, topic_of, progress)
        subscribed_s = time.perf_counter() - began
        rss_after = rss_bytes(pid)
        phase = await _publish(publishers, subscribers, progress, pid, params)
        dropped = sum(client.closed.done() for client in opened)
    finally:
        for publisher in publishers:
            publisher.close()
        for client in clients:
            client.close()
    return {
        "connections": params.connections,
        "connected": len(opened),
        "failed_connects": len(failures),
        "failure_examples": failures[:3],
        "unacknowledged_subscriptions": unacknowledged,
        "closed_during_run": dropped,
        "connect_s": connect_s,
        "subscribed_s": subscribed_s,
        "rss_before_mib": rss_before / 2**20,
        "rss_after_mib": rss_after / 2**20,
        "rss_per_connection_kib": (rss_after - rss_before) / max(len(opened), 1) / 1024,
        "target_deliveries_per_s": params.rate,
        "phase": phase,
        **subscriber_problems(subscribers, publishers),
    }


async def _publish(
    publishers: list[Publisher],
    subscribers: list[AckedSubscriber],
    progress: Progress,
    pid: int,
    params: ConnectionsParams,
) -> dict[str, Any]:
    """The paced phase: every topic's events round-robin, each publisher at an equal share of the event rate."""
    per_topic = _events_per_topic(params)
    for subscriber in subscribers:
        subscriber.begin_phase(0, per_topic)
    plans = publishing_plans(params.topics, per_topic, len(publishers))
    # Each publisher's share of the events, spread evenly over `seconds`.
    rate = per_topic * params.topics / len(publishers) / params.seconds
    result = await run_phase(publishers, plans, subscribers, progress, pid=pid, rate=rate)
    return result | {"events_per_topic": per_topic, "events_per_s": rate * len(publishers)}
