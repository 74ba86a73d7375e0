"""Scenario `fanout-redis`: the fanout scenario served by two processes that share one Redis broker.

Half the subscribers connect to each server; events are published through the two servers in turn, each once
the previous is acknowledged, so every event reaches half the subscribers through Redis, and the order of events
is still one order. The server's CPU time is the sum of both processes'; Redis's own is reported beside it.
"""

from dataclasses import dataclass
from typing import Any

from bench.load.connect import connect_and_subscribe
from bench.load.fanout import TOPIC
from bench.load.phase import run_phase, subscriber_problems
from bench.load.stats import CpuWindow, server_cpu_us_per
from bench.load.topics import Progress, Publisher, TopicSubscriber, warm_up
from bench.load.ws import WebSocketClient


@dataclass
class FanoutRedisParams:
    subscribers: int  # in all: the first server gets the odd one out
    events: int
    paced_events: int
    rate: float
    peer_port: int  # the second server; the first is the driver's --port and --pid
    peer_pid: int
    redis_pid: int | None = None  # given when Redis runs on this machine, so its CPU time can be read
    connect_concurrency: int = 64


class Alternating(Publisher):
    """Publishes each event through the next of `members` in turn. One publish at a time, so each event leaves
    Redis before the next enters it, whichever server publishes it."""

    def __init__(self, members: list[Publisher]) -> None:
        first = members[0].http
        super().__init__(first.host, first.port, first.path)  # its own connection opens lazily: never used
        self.members = members
        self.turn = 0

    async def publish(self, topic: str, text: str) -> None:
        member = self.members[self.turn % len(self.members)]
        self.turn += 1
        await member.publish(topic, text)

    def close(self) -> None:
        for member in self.members:
            member.close()


async def run_fanout_redis(host: str, port: int, path: str, pid: int, params: FanoutRedisParams) -> dict[str, Any]:
    ends = [(port, pid), (params.peer_port, params.peer_pid)]
    counts = [params.subscribers - params.subscribers // 2, params.subscribers // 2]
    progress = Progress()
    subscribers: list[TopicSubscriber] = []

    def subscribe(client: WebSocketClient) -> None:
        subscriber = TopicSubscriber(client, TOPIC, progress)
        subscribers.append(subscriber)
        subscriber.subscribe()

    clients: list[WebSocketClient] = []
    setups: list[dict[str, Any]] = []
    members = [Publisher(host, end_port, path) for end_port, _ in ends]
    publisher = Alternating(members)
    phases: dict[str, Any] = {}
    try:
        for (end_port, end_pid), count in zip(ends, counts, strict=True):
            opened, setup = await connect_and_subscribe(
                (host, end_port, path), end_pid, subscribe, count=count, concurrency=params.connect_concurrency
            )
            clients += opened
            setups.append(setup)
        # Through each server in turn: then both servers' Redis subscriptions are live, whichever way an event goes.
        warmups = await warm_up(members[0], [TOPIC], subscribers)
        warmups += await warm_up(members[1], [TOPIC], subscribers, first_round=warmups)
        pids = list(dict.fromkeys(end_pid for _, end_pid in ends))  # once each, if both ends are one server
        phases["burst"] = await _phase(
            publisher, subscribers, pids=pids, redis_pid=params.redis_pid, first=0, events=params.events, rate=0.0
        )
        if phases["burst"]["lost"] == 0 and params.paced_events > 0:
            phases["paced"] = await _phase(
                publisher,
                subscribers,
                pids=pids,
                redis_pid=params.redis_pid,
                first=params.events,
                events=params.paced_events,
                rate=params.rate,
            )
    finally:
        publisher.close()
        for client in clients:
            client.close()
    cpu_s = sum(setup["connect_cpu"]["server_cpu_s"] + setup["subscribe_cpu"]["server_cpu_s"] for setup in setups)
    return {
        "subscribers": params.subscribers,
        "servers": len(ends),
        "subscribers_per_server": counts,
        "connect_s": sum(setup["connect_s"] for setup in setups),
        "setup": setups,
        "connect_subscribe_cpu_us_per_client": server_cpu_us_per({"server_cpu_s": cpu_s}, params.subscribers),
        "warmup_events": warmups,
        **phases,
        **subscriber_problems(subscribers, members),
    }


async def _phase(
    publisher: Publisher,
    subscribers: list[TopicSubscriber],
    *,
    pids: list[int],
    redis_pid: int | None,
    first: int,
    events: int,
    rate: float,
) -> dict[str, Any]:
    """Events `first` .. `first + events - 1`, every one to every subscriber; with Redis's CPU time over it."""
    for subscriber in subscribers:
        subscriber.begin_phase(first, events)
    plan = [(TOPIC, first + index) for index in range(events)]
    redis = CpuWindow(redis_pid) if redis_pid is not None else None
    if redis is not None:
        redis.start()
    result = await run_phase([publisher], [plan], subscribers, subscribers[0].progress, pid=pids, rate=rate)
    if redis is not None:
        # The same window as the servers' give or take the microseconds of a /proc read at each end.
        redis_cpu_s = redis.stop()["server_cpu_s"]
        result["redis_cpu_s"] = redis_cpu_s
        result["redis_cpu_us_per_delivery"] = server_cpu_us_per({"server_cpu_s": redis_cpu_s}, result["delivered"])
    return result
