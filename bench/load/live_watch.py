"""One client watching the live query `board`: checks that every version arrives once, in order, and times it.

Contract with the server (livegql's `@live` queries, bench/apps/livegql_app.py): the first `next` carries the
current result; after each invalidation whose result changed, another `next` carries the full new result. The
board's `stamp` is the perf_counter_ns at which the driver sent the `bump` that produced that version.
"""

import time
from typing import Any

import orjson

from bench.load.session import PONG
from bench.load.tracking import Countdown, Stream
from bench.load.ws import WebSocketClient

LIVE_QUERY = "query Board @live { board { id version stamp } }"
SUBSCRIBE_LIVE = orjson.dumps({"id": "1", "type": "subscribe", "payload": {"query": LIVE_QUERY}})


class LiveProgress:
    """What the driver waits on: everyone's first result, then everyone at the version of the current round."""

    def __init__(self, clients: int) -> None:
        self.initial = Countdown(clients)
        self.round = Countdown(0)
        self.base = 0  # the version of the first result
        self.target = 0  # the version the current round waits for

    def fail(self, reason: str) -> None:
        self.initial.abort(reason)
        self.round.abort(reason)


class LiveWatcher:
    """One socket, one live query. `stream` numbers the versions after the first: base + 1 is message 0."""

    __slots__ = ("client", "examples", "frame", "problems", "progress", "stream", "version")

    def __init__(self, client: WebSocketClient, progress: LiveProgress, frame: bytes = SUBSCRIBE_LIVE) -> None:
        self.client = client
        self.frame = frame  # the `subscribe` message (id "1") of the live query to watch
        self.progress = progress
        self.version: int | None = None
        self.stream: Stream | None = None
        self.problems = 0
        self.examples: list[str] = []
        client.on_message = self.on_message

    def subscribe(self) -> None:
        self.client.send_text(self.frame)

    def problem(self, text: str, fatal: bool = False) -> None:
        self.problems += 1
        if len(self.examples) < 3:
            self.examples.append(text)
        if fatal:
            self.progress.fail(text)

    def on_message(self, raw: bytes) -> None:
        now = time.perf_counter_ns()
        message = orjson.loads(raw)
        kind = message.get("type")
        if kind == "next":
            self._on_result(message["payload"], now, raw)
        elif kind == "ping":
            self.client.send_text(PONG)
        elif kind == "complete":
            self.problem("the server completed the live query (no live queries?)", fatal=True)
        elif kind != "pong":
            self.problem(f"unexpected {raw[:300]!r}", fatal=kind == "error")

    def _on_result(self, payload: dict[str, Any], now: int, raw: bytes) -> None:
        board = (payload.get("data") or {}).get("board")
        if payload.get("errors") or board is None:
            self.problem(f"error result {raw[:300]!r}", fatal=True)
            return
        version: int = board["version"]
        if self.version is None:
            self.version = version
            self.progress.initial.tick()
            return
        stream = self.stream
        index = version - self.progress.base - 1
        if stream is None or not stream.in_range(index):
            self.problem(f"version {version} outside the measured rounds")
        else:
            stream.receive(index, now - int(board["stamp"]), now)
        if self.version < self.progress.target <= version:
            self.progress.round.tick()
        self.version = max(self.version, version)
