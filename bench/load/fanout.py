"""Scenario `fanout`: S subscribers on one topic, E events published over HTTP; deliveries/s, latency, loss.

Each event's `text` is "index|perf_counter_ns at publish", so every subscriber can check it got every event in
order (and the server's `seq` has no gap) and how long the event took to reach it.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson

from bench.load.http1 import HTTPConnection, connect_http, encode_post
from bench.load.session import PONG
from bench.load.ws import WebSocketClient

TOPIC = "bench"
SUBSCRIBE = orjson.dumps(
    {"id": "1", "type": "subscribe", "payload": {"query": f'subscription {{ topic(name: "{TOPIC}") {{ text seq }} }}'}}
)
PUBLISH = f'mutation Publish($text: String!) {{ publish(topic: "{TOPIC}", text: $text) }}'


@dataclass
class FanoutParams:
    subscribers: int
    events: int  # the burst: each event published as soon as the previous one is acknowledged
    paced_events: int  # then these, at `rate` events per second, for latency below saturation
    rate: float
    connect_concurrency: int = 64


class Tally:
    """Progress shared by all subscribers, so the driver can wait on it without polling each one."""

    def __init__(self, subscribers: int) -> None:
        self.subscribers = subscribers
        self.events = 0  # of the current phase
        self.warm_index = -1  # the warm-up event everyone must have seen
        self.warmed = 0
        self.finished = 0
        self.all_warm = asyncio.Event()
        self.all_finished = asyncio.Event()


class Subscriber:
    """One subscription: checks order and completeness, records publish-to-delivery latency."""

    __slots__ = (
        "client",
        "examples",
        "last_at",
        "last_seq",
        "latencies",
        "next_index",
        "problems",
        "seen_warm",
        "tally",
    )

    def __init__(self, client: WebSocketClient, tally: Tally) -> None:
        self.client = client
        self.tally = tally
        self.latencies: list[int] = []
        self.next_index = 0
        self.last_seq: int | None = None
        self.seen_warm = -1
        self.last_at = 0
        self.problems = 0
        self.examples: list[str] = []
        client.on_message = self.on_message

    def begin_phase(self) -> None:
        self.latencies = []
        self.last_at = 0

    def problem(self, text: str) -> None:
        self.problems += 1
        if len(self.examples) < 3:
            self.examples.append(text)

    def on_message(self, raw: bytes) -> None:
        now = time.perf_counter_ns()
        message = orjson.loads(raw)
        kind = message.get("type")
        if kind == "next":
            self._on_event(message["payload"], now, raw)
        elif kind == "ping":
            self.client.send_text(PONG)
        else:
            self.problem(f"unexpected {raw[:300]!r}")

    def _on_event(self, payload: dict[str, Any], now: int, raw: bytes) -> None:
        event = (payload.get("data") or {}).get("topic")
        if payload.get("errors") or event is None:
            self.problem(f"error result {raw[:300]!r}")
            return
        seq = event["seq"]
        if self.last_seq is not None and seq != self.last_seq + 1:
            self.problem(f"seq {self.last_seq} then {seq}")
        self.last_seq = seq
        head, _, sent = event["text"].partition("|")
        if head.startswith("w"):
            self._on_warmup(int(head[1:]))
            return
        index = int(head)
        if index != self.next_index:
            self.problem(f"expected event {self.next_index}, got {index}")
        self.next_index = index + 1
        self.latencies.append(now - int(sent))
        self.last_at = now
        if len(self.latencies) == self.tally.events:
            self.tally.finished += 1
            if self.tally.finished == self.tally.subscribers:
                self.tally.all_finished.set()

    def _on_warmup(self, index: int) -> None:
        if self.seen_warm < self.tally.warm_index <= index:
            self.tally.warmed += 1
            if self.tally.warmed == self.tally.subscribers:
                self.tally.all_warm.set()
        self.seen_warm = index


class Publisher:
    """Publishes through the `publish` mutation over one keep-alive HTTP connection (reopened if the server
    closed it while idle)."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.connection: HTTPConnection | None = None
        self.failures: list[str] = []

    async def publish(self, text: str) -> None:
        if self.connection is None or self.connection.closed:
            self.connection = await connect_http(self.host, self.port)
        body = orjson.dumps({"query": PUBLISH, "variables": {"text": text}})
        status, answer = await self.connection.request(encode_post(self.host, self.port, self.path, body))
        if status != 200 or orjson.loads(answer) != {"data": {"publish": True}}:
            self.failures.append(f"status {status}: {answer[:300]!r}")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
