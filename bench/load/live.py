"""Scenario `live`: C clients watch the same live query; I invalidations, one at a time.

Each round sends one `bump` mutation (which changes the board and invalidates `Query.board`), then waits until
every client has the new version, so the server's 50 ms coalescing window never merges two rounds. Measured:
bump-to-receipt latency, server CPU per delivered result (over exactly the rounds), and how many times the
server executed `board` per invalidation (its own counter, `liveExecutions`): 1.0 means one execution however
many clients watch. livegql and Yoga (bench/node/yoga.mjs) implement this; the runner reports the other servers as
skipped.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.load.connect import connect_and_subscribe
from bench.load.errors import ScenarioError
from bench.load.graphql_http import GraphQLOverHTTP
from bench.load.live_watch import LiveProgress, LiveWatcher
from bench.load.stats import CpuWindow, latency_summary, server_cpu_us_per
from bench.load.tracking import Countdown, Stream, completeness
from bench.load.ws import WebSocketClient

BUMP = "mutation Bump($stamp: String!) { bump(stamp: $stamp) }"
EXECUTIONS = "{ liveExecutions }"
INITIAL_TIMEOUT = 30.0


@dataclass
class LiveParams:
    clients: int
    invalidations: int
    interval: float = 0.0  # least seconds from one bump to the next (pacing), on top of waiting for everyone
    round_timeout: float = 10.0
    connect_concurrency: int = 64


async def _executions(http: GraphQLOverHTTP) -> int:
    try:
        count: int = (await http.data(EXECUTIONS))["liveExecutions"]
    except ValueError as error:
        raise ScenarioError(f"the server has no live-query counter `liveExecutions`: {error}") from None
    return count


async def _bump(http: GraphQLOverHTTP, stamp: int) -> int:
    try:
        version: int = (await http.data(BUMP, {"stamp": str(stamp)}))["bump"]
    except ValueError as error:
        raise ScenarioError(f"the `bump` mutation (which invalidates Query.board) failed: {error}") from None
    return version


async def run_live(host: str, port: int, path: str, pid: int, params: LiveParams) -> dict[str, Any]:
    http = GraphQLOverHTTP(host, port, path)
    await _executions(http)  # fails early, with a clear message, on a server without the live-query fields
    progress = LiveProgress(params.clients)
    watchers: list[LiveWatcher] = []

    def subscribe(client: WebSocketClient) -> None:
        watcher = LiveWatcher(client, progress)
        watchers.append(watcher)
        watcher.subscribe()

    clients, setup = await connect_and_subscribe(
        (host, port, path), pid, subscribe, count=params.clients, concurrency=params.connect_concurrency
    )
    try:
        await first_results(watchers, progress)
        rounds = await run_rounds(http, watchers, progress, pid, params)
    finally:
        http.close()
        for client in clients:
            client.close()
    return {"clients": params.clients, "interval": params.interval, "setup": setup, **rounds}


async def first_results(watchers: list[LiveWatcher], progress: LiveProgress) -> None:
    """Wait until every watcher has its first result, and check they all have the same version (the base)."""
    if not await progress.initial.wait(INITIAL_TIMEOUT):
        missing = f"{progress.initial.left} of {len(watchers)} clients never got the first result"
        raise ScenarioError(f"live query: {progress.initial.reason or missing}")
    versions = {watcher.version for watcher in watchers}
    if len(versions) != 1:
        raise ScenarioError(f"the first results disagree on the version: {sorted(map(str, versions))}")
    progress.base = progress.target = versions.pop() or 0


async def run_rounds(
    http: GraphQLOverHTTP,
    watchers: list[LiveWatcher],
    progress: LiveProgress,
    pid: int,
    params: LiveParams,
    *,
    after_round: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Bump, wait for everyone to see it, repeat; stop at the first round that times out. `after_round` runs
    after each completed round, inside the measured window (so it must be cheap)."""
    for watcher in watchers:
        watcher.stream = Stream(params.invalidations)
    before = await _executions(http)
    done, stalled = 0, None
    cpu = CpuWindow(pid)
    cpu.start()
    began = time.perf_counter_ns()
    for round_index in range(params.invalidations):
        if params.interval > 0:  # pacing, not synchronisation: keeps bumps apart by at least the interval
            await asyncio.sleep(max(0.0, began / 1e9 + round_index * params.interval - time.perf_counter()))
        progress.target += 1
        progress.round = Countdown(len(watchers))
        version = await _bump(http, time.perf_counter_ns())
        if version != progress.target:
            raise ScenarioError(f"bump returned version {version}, expected {progress.target}")
        if not await progress.round.wait(params.round_timeout):
            waiting = f"{progress.round.left} clients never received version {version}"
            stalled = progress.round.reason or waiting
            break
        done += 1
        if after_round is not None:
            after_round()
    usage = cpu.stop()
    executions = await _executions(http) - before
    streams = [watcher.stream for watcher in watchers if watcher.stream is not None]
    for stream in streams:  # rounds never attempted after a stall are not losses
        stream.expected = done + (stalled is not None)
    totals = completeness(streams)
    last = max((stream.last_at for stream in streams), default=began)
    duration_s = (last - began) / 1e9
    return {
        "invalidations": params.invalidations,
        "rounds_completed": done,
        "stalled": stalled,
        **totals,
        "duration_s": duration_s,
        "deliveries_per_s": totals["delivered"] / duration_s if duration_s > 0 else None,
        "latency": latency_summary([sample for stream in streams for sample in stream.latencies]),
        "cpu": usage,
        "server_cpu_us_per_delivery": server_cpu_us_per(usage, totals["delivered"]),
        "executions": executions,
        "executions_per_invalidation": executions / done if done else None,
        "problems": sum(watcher.problems for watcher in watchers),
        "problem_examples": [text for watcher in watchers for text in watcher.examples][:5],
    }
