"""Scenario `idle`: C connections, each with one active subscription that receives nothing after it is
confirmed; the server's RSS per connection, and its CPU time per connect and subscribe.

RSS is read three times: before (with one subscribed baseline socket open, so first-use code and caches are not
counted per connection), once all C sockets are initialised (the old `connections` scenario: idle sockets with no
subscription), and once all C subscriptions are confirmed live by a warm-up event everyone received.
"""

from dataclasses import dataclass
from typing import Any

from bench.load.connect import connect_and_subscribe, ping_all
from bench.load.phase import subscriber_problems
from bench.load.topics import Progress, Publisher, TopicSubscriber, warm_up
from bench.load.ws import WebSocketClient
from bench.procfs import rss_bytes

TOPIC = "idle"
PING_TIMEOUT = 30.0


@dataclass
class IdleParams:
    connections: int
    connect_concurrency: int = 64


class Group:
    """Subscribers of TOPIC opened together, with their own progress (so warm-up counts only them)."""

    def __init__(self) -> None:
        self.progress = Progress()
        self.subscribers: list[TopicSubscriber] = []
        self.clients: list[WebSocketClient] = []

    def subscribe(self, client: WebSocketClient) -> None:
        subscriber = TopicSubscriber(client, TOPIC, self.progress)
        self.subscribers.append(subscriber)
        subscriber.subscribe()

    def close(self) -> None:
        for client in self.clients:
            client.close()


async def run_idle(host: str, port: int, path: str, pid: int, params: IdleParams) -> dict[str, Any]:
    address = (host, port, path)
    publisher = Publisher(host, port, path)
    baseline, idle = Group(), Group()
    rss: dict[str, int] = {}

    def read_connected_rss() -> None:
        rss["connected"] = rss_bytes(pid)

    try:
        baseline.clients, _ = await connect_and_subscribe(address, pid, baseline.subscribe, count=1, concurrency=1)
        await warm_up(publisher, [TOPIC], baseline.subscribers)
        rss["before"] = rss_bytes(pid)
        idle.clients, setup = await connect_and_subscribe(
            address,
            pid,
            idle.subscribe,
            count=params.connections,
            concurrency=params.connect_concurrency,
            on_connected=read_connected_rss,
        )
        warmups = await warm_up(publisher, [TOPIC], idle.subscribers)
        rss["subscribed"] = rss_bytes(pid)
        alive = await ping_all(idle.clients, PING_TIMEOUT)
    finally:
        publisher.close()
        baseline.close()
        idle.close()
    count = params.connections
    return {
        "connections": count,
        "rss_before_mib": rss["before"] / 2**20,
        "rss_connected_mib": rss["connected"] / 2**20,
        "rss_after_mib": rss["subscribed"] / 2**20,
        "rss_per_connection_kib": (rss["connected"] - rss["before"]) / count / 1024,
        "rss_per_subscribed_connection_kib": (rss["subscribed"] - rss["before"]) / count / 1024,
        "rss_per_subscription_kib": (rss["subscribed"] - rss["connected"]) / count / 1024,
        "connect_s": setup["connect_s"],
        "connections_per_s": setup["connects_per_s"],
        "setup": setup,
        "connect_cpu_us_per_client": setup["connect_cpu_us_per_client"],
        "subscribe_cpu_us_per_client": setup["subscribe_cpu_us_per_client"],
        "connect_subscribe_cpu_us_per_client": setup["connect_subscribe_cpu_us_per_client"],
        "warmup_rounds": warmups,
        "alive": alive,
        **subscriber_problems(idle.subscribers, [publisher]),
    }
