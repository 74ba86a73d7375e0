"""Scenario `fanout`: S subscribers of one topic. A burst of E events, each published as soon as the previous
one is acknowledged (throughput, server CPU per delivery), then a paced phase well below capacity (latency).
"""

from dataclasses import dataclass
from typing import Any

from bench.load.phase import run_phase, subscriber_problems
from bench.load.topics import Publisher, TopicSubscriber, connect_topic_subscribers, warm_up

TOPIC = "bench"


@dataclass
class FanoutParams:
    subscribers: int
    events: int  # the burst: each event published as soon as the previous one is acknowledged
    paced_events: int  # then these, at `rate` events per second, for latency below saturation (0: none)
    rate: float
    connect_concurrency: int = 64


async def run_fanout(host: str, port: int, path: str, pid: int, params: FanoutParams) -> dict[str, Any]:
    clients, setup, subscribers, _progress = await connect_topic_subscribers(
        (host, port, path), pid, TOPIC, count=params.subscribers, concurrency=params.connect_concurrency
    )
    publisher = Publisher(host, port, path)
    phases: dict[str, Any] = {}
    try:
        warmups = await warm_up(publisher, [TOPIC], subscribers)
        phases["burst"] = await _phase(publisher, subscribers, pid=pid, first=0, events=params.events, rate=0.0)
        if phases["burst"]["lost"] == 0 and params.paced_events > 0:
            phases["paced"] = await _phase(
                publisher, subscribers, pid=pid, first=params.events, events=params.paced_events, rate=params.rate
            )
    finally:
        publisher.close()
        for client in clients:
            client.close()
    return {
        "subscribers": params.subscribers,
        "connect_s": setup["connect_s"],
        "setup": setup,
        "connect_subscribe_cpu_us_per_client": setup["connect_subscribe_cpu_us_per_client"],
        "warmup_events": warmups,
        **phases,
        **subscriber_problems(subscribers, [publisher]),
    }


async def _phase(
    publisher: Publisher,
    subscribers: list[TopicSubscriber],
    *,
    pid: int,
    first: int,
    events: int,
    rate: float,
) -> dict[str, Any]:
    """Events `first` .. `first + events - 1`, every one to every subscriber."""
    for subscriber in subscribers:
        subscriber.begin_phase(first, events)
    plan = [(TOPIC, first + index) for index in range(events)]
    return await run_phase([publisher], [plan], subscribers, subscribers[0].progress, pid=pid, rate=rate)
