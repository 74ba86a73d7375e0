"""Load: C concurrent WebSocket connections on one `livegql serve` process, each with a subscription to one of
100 topics, then events over the topics at R deliveries per second: 0 failed connects, 0 lost, RSS per
connection and latency reported.

CI runs 2,000 connections at 1,000 deliveries/s; the full size is
`LIVEGQL_LOAD_CONNECTIONS=10000 LIVEGQL_LOAD_RATE=5000 .venv/bin/pytest -s tests/scale/test_load_connections.py`
(docs/benchmarks.md). The server and the load generator (`python -m bench.load connections`, a lean asyncio
client on uvloop) are separate processes, so the server's RSS and CPU are its own, and the generator's CPU is
checked so that the figures are the server's and not a client's limit.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.scale.descriptors import descriptors
from tests.support.processes import ROOT, ServerProcess, serve_process

CONNECTIONS = int(os.environ.get("LIVEGQL_LOAD_CONNECTIONS", "2000"))
RATE = float(os.environ.get("LIVEGQL_LOAD_RATE", "1000"))  # deliveries per second (events x subscribers)
SECONDS = float(os.environ.get("LIVEGQL_LOAD_SECONDS", "20"))  # of paced publishing
TOPICS = 100
MIN_RATE = 0.9  # of RATE: a run that could not publish at the target rate measured something else
CLIENT_CPU_LIMIT = 90.0  # % of one core: above it the generator, not the server, may set the pace
# The generator's own deadlines (connects, acknowledgements, the drain) are inside this bound.
CLIENT_LIMIT = 120 + SECONDS + CONNECTIONS / 100
APP = "tests.scale.load_app:app"

pytestmark = pytest.mark.timeout(CLIENT_LIMIT + 60)


def run_generator(server: ServerProcess) -> dict[str, Any]:
    """`python -m bench.load connections` against `server`; its JSON result."""
    host, _, port = server.address.rpartition(":")
    params = {"connections": CONNECTIONS, "rate": RATE, "seconds": SECONDS, "topics": TOPICS}
    command = [sys.executable, "-m", "bench.load", "connections", "--host", host, "--port", port]
    command += ["--path", server.path, "--pid", str(server.process.pid), "--params", json.dumps(params)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=CLIENT_LIMIT, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    result: dict[str, Any] = json.loads(finished.stdout.splitlines()[-1])
    assert "error" not in result, result["error"]
    return result


def summary(result: dict[str, Any]) -> str:
    phase = result["phase"]
    latency, cpu = phase["latency"], phase["cpu"]
    return (
        f"load: {result['connected']}/{result['connections']} connections, {result['failed_connects']} failed, "
        f"{result['rss_per_connection_kib']:.1f} KiB RSS/connection ({result['rss_before_mib']:.0f} -> "
        f"{result['rss_after_mib']:.0f} MiB), connected+subscribed in {result['subscribed_s']:.1f} s; "
        f"{phase['deliveries_per_s']:,.0f} deliveries/s (target {RATE:,.0f}), {phase['delivered']:,} delivered, "
        f"{phase['lost']} lost; latency p50 {latency['p50_ms']:.1f} / p99 {latency['p99_ms']:.1f} / max "
        f"{latency['max_ms']:.1f} ms; server CPU {cpu['server_cpu_pct']:.0f}%, generator CPU "
        f"{cpu['client_cpu_pct']:.0f}%"
    )


def test_many_subscribed_connections_receive_every_event_at_the_target_rate(tmp_path: Path) -> None:
    with descriptors(CONNECTIONS + 1000), serve_process(APP, log=tmp_path / "server.log") as server:
        result = run_generator(server)
    line = summary(result)
    print(line)
    if os.environ.get("LIVEGQL_LOAD_RESULT"):  # the whole result, for docs/benchmarks.md
        Path(os.environ["LIVEGQL_LOAD_RESULT"]).write_text(json.dumps(result | {"summary": line}, indent=1))
    phase = result["phase"]
    assert (result["failed_connects"], result["failure_examples"]) == (0, []), line
    assert result["unacknowledged_subscriptions"] == 0, line
    assert result["closed_during_run"] == 0, line
    assert (phase["lost"], phase["duplicated"], phase["out_of_order"]) == (0, 0, 0), line
    assert (result["problems"], result["publish_failures"]) == (0, 0), result["problem_examples"]
    assert phase["deliveries_per_s"] >= MIN_RATE * RATE, line
    assert phase["cpu"]["client_cpu_pct"] < CLIENT_CPU_LIMIT, f"the generator may be the bottleneck: {line}"
