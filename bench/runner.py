"""Runs the plan: for each scenario, each server in a fresh process, driven by a fresh load-generator process."""

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from bench.servers import SERVERS, BenchError, RunningServer, running, spawn, stop


@dataclass(frozen=True)
class Sizes:
    http_clients: int
    http_seconds: float
    http_warmup: float
    subscribers: int
    events: int
    paced_events: int
    rate: float
    connections: int


DEFAULT = Sizes(32, 10.0, 2.0, 1000, 100, 20, 4.0, 3000)
QUICK = Sizes(16, 3.0, 1.0, 200, 40, 10, 10.0, 500)


def scenario_params(scenario: str, sizes: Sizes) -> dict[str, Any]:
    if scenario == "http":
        return {"clients": sizes.http_clients, "seconds": sizes.http_seconds, "warmup_seconds": sizes.http_warmup}
    if scenario == "fanout":
        return {
            "subscribers": sizes.subscribers,
            "events": sizes.events,
            "paced_events": sizes.paced_events,
            "rate": sizes.rate,
        }
    return {"connections": sizes.connections}


def load_timeout(scenario: str, sizes: Sizes) -> float:
    """A hard limit for the load generator: generous, but a hang never blocks the run."""
    if scenario == "http":
        return sizes.http_warmup + sizes.http_seconds + 60
    if scenario == "fanout":
        return 240 + sizes.paced_events / sizes.rate + sizes.subscribers / 50
    return 60 + sizes.connections / 50


def run_load(server: RunningServer, scenario: str, sizes: Sizes) -> dict[str, Any]:
    """Drive `server` with `python -m bench.load`; return its JSON result."""
    argv = [sys.executable, "-m", "bench.load", scenario, "--port", str(server.port), "--pid", str(server.pid)]
    argv += ["--params", json.dumps(scenario_params(scenario, sizes))]
    process = spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    limit = load_timeout(scenario, sizes)
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


def run_one(name: str, scenario: str, sizes: Sizes) -> dict[str, Any]:
    """One server, one scenario; failures become an `error` entry instead of stopping the run."""
    began = time.monotonic()
    try:
        with running(SERVERS[name]) as server:
            result = run_load(server, scenario, sizes)
    except BenchError as error:
        return {"error": str(error), "elapsed_s": time.monotonic() - began}
    # Anything a server logs at warning level or above during a benchmark is worth a look.
    return result | {"server_log": server.final_log, "elapsed_s": time.monotonic() - began}


def run_plan(servers: list[str], scenarios: list[str], sizes: Sizes) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        results[scenario] = {}
        for name in servers:
            print(f"[bench] {scenario} / {name} ...", file=sys.stderr, flush=True)
            results[scenario][name] = outcome = run_one(name, scenario, sizes)
            note = f"error: {outcome['error']}" if "error" in outcome else f"{outcome['elapsed_s']:.1f}s"
            print(f"[bench] {scenario} / {name}: {note}", file=sys.stderr, flush=True)
    return results


def sizes_dict(sizes: Sizes) -> dict[str, Any]:
    return asdict(sizes)
