"""Scenario `stall`, fan-out half, one phase: S subscribers of one topic, E paced events with padded payloads.

The orchestrator runs it twice, each time on a fresh server: (a) as it is, the baseline; (b) with one more
connection (bench/load/stalled.py) holding `stalled_subscriptions` subscriptions to the same topic, which stops
reading after its first event. Several subscriptions make that connection's server-side queue grow by several
frames per event, so a bounded queue fills within the run even with the server's default limits. Measured for the
normal subscribers as in the paced fanout phase: publish-to-receipt latency, completeness (every event once, in
order), CPU of server and load generator. Also the server's RSS over the phase and, in (b), what the stalled
connection got once it read again.
"""

from dataclasses import dataclass
from typing import Any

from bench.load.errors import ScenarioError
from bench.load.phase import Publishing, run_phase, subscriber_problems
from bench.load.stalled import StalledClient, open_stalled
from bench.load.stats import RssPeak
from bench.load.topics import Publisher, connect_topic_subscribers, subscribe_frame, warm_up

TOPIC = "stall"
RESUME_TIMEOUT = 30.0  # for the stalled connection to read what the server kept for it, once it reads again
TEXT_HEAD = 24  # about the length of "index|perf_counter_ns|" ahead of the padding


@dataclass
class StallFanoutParams:
    subscribers: int
    events: int
    rate: float
    stalled: bool  # phase (b): with the connection that stops reading
    payload_bytes: int = 3072  # each event's text, about
    stalled_subscriptions: int = 20
    connect_concurrency: int = 64


def event_index(payload: dict[str, Any]) -> int | None:
    """The phase's event number in a `next` payload of the topic subscription (None for warm-up events)."""
    event = (payload.get("data") or {}).get("topic") or {}
    head = str(event.get("text", "")).partition("|")[0]
    return int(head) if head.isdigit() else None


async def run_stall_fanout(host: str, port: int, path: str, pid: int, params: StallFanoutParams) -> dict[str, Any]:
    clients, setup, subscribers, progress = await connect_topic_subscribers(
        (host, port, path), pid, TOPIC, count=params.subscribers, concurrency=params.connect_concurrency
    )
    publisher = Publisher(host, port, path)
    stalled: StalledClient | None = None
    try:
        if params.stalled:
            count = params.stalled_subscriptions
            frames = [subscribe_frame(TOPIC, str(index + 1)) for index in range(count)]
            stalled = await open_stalled((host, port, path), count, frames, event_index)
        warmups = await warm_up(publisher, [TOPIC], subscribers)
        for subscriber in subscribers:
            subscriber.begin_phase(0, params.events)
        rss = RssPeak(pid)
        padding = "x" * max(1, params.payload_bytes - TEXT_HEAD)
        how = Publishing(rate=params.rate, padding=padding, after_each=rss.sample)
        plan = [(TOPIC, index) for index in range(params.events)]
        try:
            phase = await run_phase([publisher], [plan], subscribers, progress, pid=pid, publishing=how)
        except (TimeoutError, ExceptionGroup):
            # A server that writes to every subscriber from inside `publish` waits on the stalled socket's room.
            raise ScenarioError(
                "a publish got no answer in time: does the stalled client hold up publishing?"
            ) from None
        memory = rss.report()
        stalled_report = await stalled.finish(params.events - 1, RESUME_TIMEOUT) if stalled is not None else None
    finally:
        publisher.close()
        for client in clients:
            client.close()
        if stalled is not None:
            stalled.close()
    return {
        "stalled": params.stalled,
        "subscribers": params.subscribers,
        "events": params.events,
        "rate": params.rate,
        "payload_bytes": params.payload_bytes,
        "stalled_subscriptions": params.stalled_subscriptions if params.stalled else 0,
        "setup": setup,
        "warmup_rounds": warmups,
        "phase": phase,
        "memory": memory,
        "stalled_client": stalled_report,
        **subscriber_problems(subscribers, [publisher]),
    }
