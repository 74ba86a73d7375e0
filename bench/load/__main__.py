"""`python -m bench.load SCENARIO --port P --pid PID --params JSON`: run one scenario, print its result as JSON.

A scenario that ends with a ScenarioError prints `{"error": ...}` (and exits 0): the message is the report.
"""

import argparse
import asyncio
import os
import resource
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
import uvloop

from bench.load.connections import ConnectionsParams, run_connections
from bench.load.errors import ScenarioError
from bench.load.fanout import FanoutParams, run_fanout
from bench.load.fanout_redis import FanoutRedisParams, run_fanout_redis
from bench.load.http_load import HTTPParams, run_http
from bench.load.idle import IdleParams, run_idle
from bench.load.live import LiveParams, run_live
from bench.load.rooms import RoomsParams, run_rooms
from bench.load.stall_fanout import StallFanoutParams, run_stall_fanout
from bench.load.stall_live import StallLiveParams, run_stall_live

# Each scenario: its driver, called as driver(host, port, path, server_pid, params), and its parameters' type.
Driver = Callable[..., Coroutine[Any, Any, dict[str, Any]]]
SCENARIOS: dict[str, tuple[Driver, type[Any]]] = {
    "http": (run_http, HTTPParams),
    "fanout": (run_fanout, FanoutParams),
    # Two servers sharing Redis: the second one's port and pid are among the parameters.
    "fanout-redis": (run_fanout_redis, FanoutRedisParams),
    "rooms": (run_rooms, RoomsParams),
    "live": (run_live, LiveParams),
    "idle": (run_idle, IdleParams),
    # The stall scenario's two halves, each run once without and once with the client that stops reading.
    "stall-fanout": (run_stall_fanout, StallFanoutParams),
    "stall-live": (run_stall_live, StallLiveParams),
    # The load test's (tests/scale/test_load_connections.py): many subscribed sockets, paced events over topics.
    "connections": (run_connections, ConnectionsParams),
}


def _raise_fd_limit() -> None:
    # Thousands of sockets need more than the common soft limit of 1024 descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    driver, params = SCENARIOS[args.scenario]
    try:
        result = await driver(args.host, args.port, args.path, args.pid, params(**orjson.loads(args.params)))
    except ScenarioError as error:
        result = {"error": str(error)}
    return result | {"client_cpus": sorted(os.sched_getaffinity(0))}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("scenario", choices=list(SCENARIOS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/graphql")
    parser.add_argument("--pid", type=int, required=True, help="the server process, for its CPU time and RSS")
    parser.add_argument("--params", required=True, help="the scenario's parameters as a JSON object")
    args = parser.parse_args()
    _raise_fd_limit()
    # uvloop keeps the client cheap, so the server (not the load generator) is what gets measured.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(_run(args))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
