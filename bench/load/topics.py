"""Topic subscriptions and their events, shared by the fanout, rooms and idle scenarios.

Each event's `text` is "index|perf_counter_ns at publish" ("w<round>|0" during warm-up), optionally followed by
"|padding" (the stall scenario's larger events), so every subscriber can
check it got every event of a phase exactly once and in order, and how long each took to reach it. The load
generator is also the publisher, so both timestamps come from the same clock.
"""

import time
from typing import Any

import orjson

from bench.load.connect import connect_and_subscribe
from bench.load.errors import ScenarioError
from bench.load.graphql_http import GraphQLOverHTTP
from bench.load.session import PONG
from bench.load.tracking import Countdown, Stream
from bench.load.ws import WebSocketClient

SUBSCRIBE_TOPIC = "subscription Topic($name: String!) { topic(name: $name) { text seq } }"
PUBLISH = "mutation Publish($topic: String!, $text: String!) { publish(topic: $topic, text: $text) }"
WARMUP_ROUND_TIMEOUT = 1.0
WARMUP_TIMEOUT = 60.0


def subscribe_frame(topic: str, id: str = "1") -> bytes:
    """The graphql-transport-ws `subscribe` message for one topic (id "1" unless a socket has several)."""
    payload = {"query": SUBSCRIBE_TOPIC, "variables": {"name": topic}}
    return orjson.dumps({"id": id, "type": "subscribe", "payload": payload})


class Progress:
    """What the driver waits on, shared by all subscribers of a run."""

    def __init__(self) -> None:
        self.warm_round = -1  # the warm-up round every subscriber must have seen
        self.warmed = Countdown(0)
        self.finished = Countdown(0)  # subscribers whose stream of the current phase is complete


class TopicSubscriber:
    """One subscription to one topic: per phase, a Stream of the events numbered `first` onwards."""

    __slots__ = ("client", "examples", "first", "last_seq", "problems", "progress", "seen_warm", "stream", "topic")

    def __init__(self, client: WebSocketClient, topic: str, progress: Progress) -> None:
        self.client = client
        self.topic = topic
        self.progress = progress
        self.stream: Stream | None = None
        self.first = 0
        self.last_seq: int | None = None
        self.seen_warm = -1
        self.problems = 0
        self.examples: list[str] = []
        client.on_message = self.on_message

    def subscribe(self) -> None:
        self.client.send_text(subscribe_frame(self.topic))

    def begin_phase(self, first: int, expected: int) -> None:
        self.stream = Stream(expected)
        self.first = first

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
        elif kind != "pong":
            self.problem(f"unexpected {raw[:300]!r}")

    def _on_event(self, payload: dict[str, Any], now: int, raw: bytes) -> None:
        event = (payload.get("data") or {}).get("topic")
        if payload.get("errors") or event is None:
            self.problem(f"error result {raw[:300]!r}")
            return
        seq = event["seq"]
        if self.last_seq is not None and seq != self.last_seq + 1:
            self.problem(f"server seq {self.last_seq} then {seq}")
        self.last_seq = seq
        head, _, rest = event["text"].partition("|")
        sent = rest.partition("|")[0]  # padding, if any, follows a second "|"
        if head.startswith("w"):
            self._on_warmup(int(head[1:]))
            return
        index = int(head) - self.first
        stream = self.stream
        if stream is None or not stream.in_range(index):
            self.problem(f"event {head} outside the current phase")
        elif stream.receive(index, now - int(sent), now):
            self.progress.finished.tick()

    def _on_warmup(self, index: int) -> None:
        if self.seen_warm < self.progress.warm_round <= index:
            self.progress.warmed.tick()
        self.seen_warm = max(self.seen_warm, index)


class Publisher:
    """Publishes through the shared schema's `publish` mutation, one event at a time."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.http = GraphQLOverHTTP(host, port, path)
        self.failures: list[str] = []

    async def publish(self, topic: str, text: str) -> None:
        status, answer = await self.http.execute(PUBLISH, {"topic": topic, "text": text})
        if status != 200 or orjson.loads(answer) != {"data": {"publish": True}}:
            self.failures.append(f"status {status}: {answer[:300]!r}")

    def close(self) -> None:
        self.http.close()


async def warm_up(
    publisher: Publisher, topics: list[str], subscribers: list[TopicSubscriber], *, first_round: int = 0
) -> int:
    """Publish a warm-up event to every topic, round after round, until every subscriber has received the latest
    round's: then every subscription is live. Returns the number of rounds; ScenarioError after WARMUP_TIMEOUT.

    A second warm-up of the same subscribers (through another server, say) starts at `first_round` = the rounds
    of the first, so that only its own events count."""
    progress = subscribers[0].progress if subscribers else Progress()
    rounds = 0
    while rounds * WARMUP_ROUND_TIMEOUT < WARMUP_TIMEOUT:
        progress.warm_round = first_round + rounds
        progress.warmed = Countdown(len(subscribers))
        rounds += 1
        for topic in topics:
            await publisher.publish(topic, f"w{progress.warm_round}|0")
        if await progress.warmed.wait(WARMUP_ROUND_TIMEOUT):
            return rounds
    missing = progress.warmed.left
    raise ScenarioError(f"{missing} of {len(subscribers)} subscribers never received a warm-up event")


async def connect_topic_subscribers(
    address: tuple[str, int, str], pid: int, topic: str, *, count: int, concurrency: int
) -> tuple[list[WebSocketClient], dict[str, Any], list[TopicSubscriber], Progress]:
    """`count` sockets, each subscribed to `topic`; returns the clients, the connect phase's figures, the
    subscribers (in connection order) and their shared progress."""
    progress = Progress()
    subscribers: list[TopicSubscriber] = []

    def subscribe(client: WebSocketClient) -> None:
        subscriber = TopicSubscriber(client, topic, progress)
        subscribers.append(subscriber)
        subscriber.subscribe()

    clients, setup = await connect_and_subscribe(address, pid, subscribe, count=count, concurrency=concurrency)
    return clients, setup, subscribers, progress
