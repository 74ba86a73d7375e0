"""One publishing phase of the fanout and rooms scenarios, and what it measured.

Each publisher sends its planned events in order, either as soon as the previous one is acknowledged or paced
at a fixed rate; then the driver waits until every subscriber's stream is complete (or a timeout passes, which
shows up as loss). The server's CPU time is taken over exactly that window: from before the first publish until
the last delivery arrived.
"""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.load.stats import CpuWindow, latency_summary, server_cpu_us_per
from bench.load.topics import Progress, Publisher, TopicSubscriber
from bench.load.tracking import Countdown, completeness

DRAIN_TIMEOUT = 60.0
PUBLISH_TIMEOUT = 180.0

Plan = list[tuple[str, int]]  # (topic, event index) in publishing order


@dataclass(frozen=True)
class Publishing:
    """How a phase publishes: `rate` events per second (0: each once the last is acknowledged), each event's text
    padded with `padding` after a third field, and `after_each` called once each publish is acknowledged."""

    rate: float = 0.0
    padding: str = ""
    after_each: Callable[[], None] | None = None


async def _publish_all(publisher: Publisher, plan: Plan, how: Publishing, began_s: float) -> None:
    tail = f"|{how.padding}" if how.padding else ""
    for position, (topic, index) in enumerate(plan):
        if how.rate > 0:  # pacing, not synchronisation: the paced phase measures latency below saturation
            await asyncio.sleep(max(0.0, began_s + position / how.rate - time.perf_counter()))
        await publisher.publish(topic, f"{index}|{time.perf_counter_ns()}{tail}")
        if how.after_each is not None:
            how.after_each()


async def run_phase(
    publishers: list[Publisher],
    plans: list[Plan],
    subscribers: Sequence[TopicSubscriber],
    progress: Progress,
    *,
    pid: int | Sequence[int],
    rate: float = 0.0,
    publishing: Publishing | None = None,
) -> dict[str, Any]:
    """Publish `plans[i]` through `publishers[i]`, all at once; subscribers must have begun the phase.

    `publishing`, if given, overrides `rate` and adds padding and a per-publish hook. Several `pid`s: the
    server's CPU time is their sum (one app served by several processes)."""
    how = publishing or Publishing(rate=rate)
    rate = how.rate
    progress.finished = Countdown(len(subscribers))
    events = sum(len(plan) for plan in plans)
    cpu = CpuWindow(pid)
    cpu.start()
    began = time.perf_counter_ns()
    async with asyncio.timeout(PUBLISH_TIMEOUT + (events / rate if rate > 0 else 0)), asyncio.TaskGroup() as group:
        for publisher, plan in zip(publishers, plans, strict=True):
            group.create_task(_publish_all(publisher, plan, how, began / 1e9))
    published_s = (time.perf_counter_ns() - began) / 1e9
    drained = await progress.finished.wait(DRAIN_TIMEOUT)
    usage = cpu.stop()
    streams = [subscriber.stream for subscriber in subscribers if subscriber.stream is not None]
    totals = completeness(streams)
    last = max((stream.last_at for stream in streams), default=began)
    duration_s = (last - began) / 1e9
    return {
        "events": events,
        "rate": rate,
        **totals,
        "drained": drained,
        "duration_s": duration_s,
        "publish_s": published_s,
        "deliveries_per_s": totals["delivered"] / duration_s if duration_s > 0 else None,
        "latency": latency_summary([sample for stream in streams for sample in stream.latencies]),
        "cpu": usage,
        "server_cpu_us_per_delivery": server_cpu_us_per(usage, totals["delivered"]),
    }


def subscriber_problems(subscribers: Sequence[TopicSubscriber], publishers: Sequence[Publisher]) -> dict[str, Any]:
    """Protocol-level problems (error results, unexpected messages, server seq gaps) and failed publishes."""
    failures = [failure for publisher in publishers for failure in publisher.failures]
    return {
        "problems": sum(subscriber.problems for subscriber in subscribers),
        "problem_examples": [text for subscriber in subscribers for text in subscriber.examples][:5],
        "publish_failures": len(failures),
        "publish_failure_examples": failures[:3],
    }
