"""Runs the plan: for each scenario, each server in a fresh process, driven by a fresh load-generator process,
the two pinned to different CPUs when the machine has two or more.
"""

import contextlib
import json
import subprocess
import sys
import time
from dataclasses import asdict
from typing import Any

from bench.load.http_load import QUERIES as HTTP_QUERIES
from bench.machine import Pinning, children_pinned
from bench.procfs import affinity
from bench.servers import SERVERS, BenchError, RunningServer, running, spawn, stop
from bench.sizes import Sizes
from bench.stall_plan import combine_stall, stall_runs

# Run once, not per server: livegql in memory, then two livegql processes sharing Redis (bench/fanout_redis.py);
# skipped, with the reason, where Redis does not answer.
FANOUT_REDIS = "fanout-redis"
SCENARIOS = ["http", "fanout", FANOUT_REDIS, "rooms", "live", "idle", "stall"]
# Servers that implement live queries (`@live`, `liveExecutions`, `bump`); the others skip the live scenario.
LIVE_QUERY_SERVERS = frozenset({"livegql", "yoga"})
NO_LIVE_QUERIES = "no live queries"
# The floor writes to each subscriber from inside `publish` with no queue (bench/apps/floor_app.py), so one socket that
# stops reading blocks every publish: by design, it has no slow-consumer policy to measure.
NO_STALL = {"floor": "no slow-consumer policy: a socket that stops reading blocks every publish, by design"}


def scenario_params(scenario: str, sizes: Sizes) -> dict[str, Any]:
    """The load generator's parameters for `scenario` (the fields of its *Params dataclass)."""
    if scenario == "http":
        return {"clients": sizes.http_clients, "seconds": sizes.http_seconds, "warmup_seconds": sizes.http_warmup}
    if scenario == "fanout":
        return {
            "subscribers": sizes.subscribers,
            "events": sizes.events,
            "paced_events": sizes.paced_events,
            "rate": sizes.rate,
        }
    if scenario == "rooms":
        return {"subscribers": sizes.room_subscribers, "rooms": sizes.rooms, "events": sizes.room_events}
    if scenario == "live":
        return {"clients": sizes.live_clients, "invalidations": sizes.invalidations, "interval": sizes.live_interval}
    return {"connections": sizes.connections}


def load_timeout(scenario: str, sizes: Sizes) -> float:
    """A hard limit for the load generator: generous, but a hang never blocks the run."""
    if scenario == "http":
        return len(HTTP_QUERIES) * (sizes.http_warmup + sizes.http_seconds) + 60
    if scenario == "fanout":
        return 300 + sizes.paced_events / sizes.rate + sizes.subscribers / 50
    if scenario == "rooms":
        return 300 + sizes.room_subscribers / 50
    if scenario == "live":
        return 120 + sizes.live_clients / 50 + sizes.invalidations * (10 + sizes.live_interval)
    return 120 + sizes.connections / 50


def run_load(
    server: RunningServer, scenario: str, params: dict[str, Any], limit: float, cpus: tuple[int, ...] | None
) -> dict[str, Any]:
    """Drive `server` with `python -m bench.load`, pinned to `cpus`, for at most `limit` s; return its JSON result."""
    argv = [sys.executable, "-m", "bench.load", scenario, "--port", str(server.port), "--pid", str(server.pid)]
    argv += ["--params", json.dumps(params)]
    process = spawn(argv, cpus, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        raise BenchError(f"load generator timed out after {limit:.0f}s") from None
    finally:
        stop(process)
    if process.returncode != 0:
        raise BenchError(f"load generator exited with {process.returncode}: {err.strip().splitlines()[-5:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def run_fresh(name: str, scenario: str, params: dict[str, Any], limit: float, pinning: Pinning) -> dict[str, Any]:
    """One load-generator run against a fresh `name` server; failures become an `error` entry."""
    began = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            # Started while the orchestrator is pinned, the server inherits that affinity, in every thread.
            with children_pinned(pinning.server_cpus):
                server = stack.enter_context(running(SERVERS[name]))
            server_cpus = affinity(server.pid)
            result = run_load(server, scenario, params, limit, pinning.load_cpus)
    except BenchError as error:
        return {"error": str(error), "elapsed_s": time.monotonic() - began}
    # Anything a server logs at warning level or above during a benchmark is worth a look.
    extra = {"server_cpus": server_cpus, "server_log": server.final_log, "elapsed_s": time.monotonic() - began}
    return result | extra


def run_stall(name: str, sizes: Sizes, pinning: Pinning) -> dict[str, Any]:
    """The stall scenario: each of its runs (bench/stall_plan.py) on a fresh server, then their summary."""
    live = name in LIVE_QUERY_SERVERS
    outcomes = {}
    for run in stall_runs(sizes, live=live):
        print(f"[bench]   stall / {name}: {run.part}, {run.phase} ...", file=sys.stderr, flush=True)
        outcomes[(run.part, run.phase)] = run_fresh(name, run.load_scenario, run.params, run.timeout, pinning)
    return combine_stall(outcomes, {} if live else {"live": NO_LIVE_QUERIES})


def run_one(name: str, scenario: str, sizes: Sizes, pinning: Pinning) -> dict[str, Any]:
    """One server, one scenario; failures become an `error` entry instead of stopping the run."""
    if scenario == "live" and name not in LIVE_QUERY_SERVERS:
        return {"skipped": NO_LIVE_QUERIES}
    if scenario == "stall":
        return {"skipped": NO_STALL[name]} if name in NO_STALL else run_stall(name, sizes, pinning)
    return run_fresh(name, scenario, scenario_params(scenario, sizes), load_timeout(scenario, sizes), pinning)


def run_plan(
    servers: list[str], scenarios: list[str], sizes: Sizes, pinning: Pinning, redis_url: str
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        results[scenario] = {}
        if scenario == FANOUT_REDIS:
            # Imported here: that module builds on this one's run_fresh and run_load.
            from bench.fanout_redis import run_fanout_redis

            print(f"[bench] {scenario} ...", file=sys.stderr, flush=True)
            results[scenario] = run_fanout_redis(servers, sizes, pinning, redis_url)
            for name, outcome in results[scenario].items():
                print(f"[bench] {scenario} / {name}: {_summary(outcome)}", file=sys.stderr, flush=True)
            continue
        for name in servers:
            print(f"[bench] {scenario} / {name} ...", file=sys.stderr, flush=True)
            results[scenario][name] = outcome = run_one(name, scenario, sizes, pinning)
            print(f"[bench] {scenario} / {name}: {_summary(outcome)}", file=sys.stderr, flush=True)
    return results


def _summary(outcome: dict[str, Any]) -> str:
    if "error" in outcome:
        return f"error: {outcome['error']}"
    if "skipped" in outcome:
        return f"skipped: {outcome['skipped']}"
    return f"{outcome['elapsed_s']:.1f}s"


def sizes_dict(sizes: Sizes) -> dict[str, Any]:
    return asdict(sizes)
