"""Scenario `stall`, live-query half, one phase: W watchers of the live `board` query, N bumps one round at a time.

As the fan-out half, run twice on fresh servers: (a) the baseline; (b) with one more connection holding
`stalled_queries` copies of the same live query, which stops reading after its first result. Each round bumps the
board and waits until every normal watcher has the new version (never for the stalled one). The query asks for
`padding(size)`, a string of that many bytes, so each result is a few KiB and the stalled connection's buffers fill
within the run. A server that coalesces live results keeps only the latest one for a connection that cannot keep
up: once it reads again it must get the final version, without every version in between.
"""

from dataclasses import dataclass
from typing import Any

import orjson

from bench.load.connect import connect_and_subscribe
from bench.load.graphql_http import GraphQLOverHTTP
from bench.load.live import LiveParams, first_results, run_rounds
from bench.load.live_watch import LiveProgress, LiveWatcher
from bench.load.stalled import StalledClient, open_stalled
from bench.load.stats import RssPeak
from bench.load.ws import WebSocketClient

RESUME_TIMEOUT = 30.0
PADDED_QUERY = "query Board @live {{ board {{ id version stamp padding(size: {size}) }} }}"


@dataclass
class StallLiveParams:
    watchers: int
    bumps: int
    stalled: bool  # phase (b): with the connection that stops reading
    padding: int = 3072
    stalled_queries: int = 20
    round_timeout: float = 10.0
    connect_concurrency: int = 64


def board_version(payload: dict[str, Any]) -> int | None:
    board = (payload.get("data") or {}).get("board") or {}
    version = board.get("version")
    return version if isinstance(version, int) else None


def _subscribe(id: str, padding: int) -> bytes:
    query = PADDED_QUERY.format(size=padding)
    return orjson.dumps({"id": id, "type": "subscribe", "payload": {"query": query}})


async def run_stall_live(host: str, port: int, path: str, pid: int, params: StallLiveParams) -> dict[str, Any]:
    progress = LiveProgress(params.watchers)
    watchers: list[LiveWatcher] = []
    frame = _subscribe("1", params.padding)

    def subscribe(client: WebSocketClient) -> None:
        watcher = LiveWatcher(client, progress, frame)
        watchers.append(watcher)
        watcher.subscribe()

    clients, setup = await connect_and_subscribe(
        (host, port, path), pid, subscribe, count=params.watchers, concurrency=params.connect_concurrency
    )
    http = GraphQLOverHTTP(host, port, path)
    stalled: StalledClient | None = None
    try:
        if params.stalled:
            frames = [_subscribe(str(index + 1), params.padding) for index in range(params.stalled_queries)]
            stalled = await open_stalled((host, port, path), params.stalled_queries, frames, board_version)
        await first_results(watchers, progress)
        rss = RssPeak(pid)
        rounds_params = LiveParams(
            clients=params.watchers, invalidations=params.bumps, round_timeout=params.round_timeout
        )
        rounds = await run_rounds(http, watchers, progress, pid, rounds_params, after_round=rss.sample)
        memory = rss.report()
        final = progress.target
        stalled_report = await stalled.finish(final, RESUME_TIMEOUT) if stalled is not None else None
    finally:
        http.close()
        for client in clients:
            client.close()
        if stalled is not None:
            stalled.close()
    return {
        "stalled": params.stalled,
        "watchers": params.watchers,
        "bumps": params.bumps,
        "padding": params.padding,
        "stalled_queries": params.stalled_queries if params.stalled else 0,
        "setup": setup,
        "first_version": progress.base,
        "final_version": final,
        "phase": rounds,
        "memory": memory,
        "stalled_client": stalled_report,
    }
