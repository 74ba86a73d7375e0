"""Scenario `fanout`, driven: subscribe everyone, warm up, then a burst phase (throughput) and a paced phase
(latency below saturation), each checked for loss and order.
"""

import asyncio
import time
from typing import Any

from bench.load.fanout import SUBSCRIBE, FanoutParams, Publisher, Subscriber, Tally
from bench.load.session import open_sessions
from bench.load.stats import CpuWindow, latency_summary

WARMUP_TIMEOUT = 30.0
DRAIN_TIMEOUT = 60.0
PUBLISH_TIMEOUT = 120.0


async def run_fanout(host: str, port: int, path: str, pid: int, params: FanoutParams) -> dict[str, Any]:
    tally = Tally(params.subscribers)
    began = time.perf_counter()
    clients = await open_sessions(host, port, path, params.subscribers, params.connect_concurrency)
    connect_s = time.perf_counter() - began
    subscribers = [Subscriber(client, tally) for client in clients]
    publisher = Publisher(host, port, path)
    phases: dict[str, Any] = {}
    try:
        for client in clients:
            client.send_text(SUBSCRIBE)
        warmups = await _warm_up(publisher, tally)
        phases["burst"] = await _phase(publisher, tally, subscribers, pid, first=0, events=params.events, rate=0.0)
        if phases["burst"]["lost"] == 0 and params.paced_events > 0:
            phases["paced"] = await _phase(
                publisher, tally, subscribers, pid, first=params.events, events=params.paced_events, rate=params.rate
            )
    finally:
        publisher.close()
        for client in clients:
            client.close()
    return {
        "subscribers": params.subscribers,
        "connect_s": connect_s,
        "warmup_events": warmups,
        **phases,
        "problems": sum(subscriber.problems for subscriber in subscribers),
        "problem_examples": [text for subscriber in subscribers for text in subscriber.examples][:5],
        "publish_failures": len(publisher.failures),
        "publish_failure_examples": publisher.failures[:3],
    }


async def _warm_up(publisher: Publisher, tally: Tally) -> int:
    """Publish warm-up events until every subscriber has received the latest one: then all are subscribed."""
    async with asyncio.timeout(WARMUP_TIMEOUT):
        while True:
            tally.warm_index += 1
            tally.warmed = 0
            tally.all_warm.clear()
            await publisher.publish(f"w{tally.warm_index}|0")
            try:
                async with asyncio.timeout(1.0):
                    await tally.all_warm.wait()
                    return tally.warm_index + 1
            except TimeoutError:
                continue


async def _phase(
    publisher: Publisher, tally: Tally, subscribers: list[Subscriber], pid: int, *, first: int, events: int, rate: float
) -> dict[str, Any]:
    """Publish events `first`.. `first + events - 1` (as fast as acknowledged when `rate` is 0) and wait for them."""
    tally.events, tally.finished = events, 0
    tally.all_finished.clear()
    for subscriber in subscribers:
        subscriber.begin_phase()
    cpu = CpuWindow(pid)
    cpu.start()
    began = time.perf_counter_ns()
    async with asyncio.timeout(PUBLISH_TIMEOUT + (events / rate if rate > 0 else 0)):
        for index in range(events):
            if rate > 0:
                await asyncio.sleep(max(0.0, began / 1e9 + index / rate - time.perf_counter()))
            await publisher.publish(f"{first + index}|{time.perf_counter_ns()}")
    published_s = (time.perf_counter_ns() - began) / 1e9
    drained = await _drain(tally)
    usage = cpu.stop()
    return _summary(subscribers, events, rate, began=began, published_s=published_s, drained=drained) | {"cpu": usage}


async def _drain(tally: Tally) -> bool:
    """Wait for the last delivery; False when some never came (reported as loss, not hidden)."""
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT):
            await tally.all_finished.wait()
    except TimeoutError:
        return False
    return True


def _summary(
    subscribers: list[Subscriber], events: int, rate: float, *, began: int, published_s: float, drained: bool
) -> dict[str, Any]:
    delivered = sum(len(subscriber.latencies) for subscriber in subscribers)
    expected = len(subscribers) * events
    last = max((subscriber.last_at for subscriber in subscribers), default=began)
    duration_s = (last - began) / 1e9
    return {
        "events": events,
        "rate": rate,
        "expected": expected,
        "delivered": delivered,
        "lost": expected - delivered,
        "drained": drained,
        "subscribers_incomplete": sum(1 for subscriber in subscribers if len(subscriber.latencies) != events),
        "duration_s": duration_s,
        "publish_s": published_s,
        "deliveries_per_s": delivered / duration_s if duration_s > 0 else None,
        "latency": latency_summary([sample for subscriber in subscribers for sample in subscriber.latencies]),
    }
