"""`python -m bench.load SCENARIO --port P --pid PID --params JSON`: run one scenario, print its result as JSON."""

import argparse
import asyncio
import resource
import sys
from collections.abc import Coroutine
from typing import Any

import orjson
import uvloop

from bench.load.connections import ConnectionsParams, run_connections
from bench.load.fanout import FanoutParams
from bench.load.fanout_run import run_fanout
from bench.load.http_load import HTTPParams, run_http


def _raise_fd_limit() -> None:
    # Thousands of sockets need more than the common soft limit of 1024 descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _scenario(args: argparse.Namespace) -> Coroutine[Any, Any, dict[str, Any]]:
    params = orjson.loads(args.params)
    where = (args.host, args.port, args.path, args.pid)
    if args.scenario == "http":
        return run_http(*where, HTTPParams(**params))
    if args.scenario == "fanout":
        return run_fanout(*where, FanoutParams(**params))
    return run_connections(*where, ConnectionsParams(**params))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("scenario", choices=["http", "fanout", "connections"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/graphql")
    parser.add_argument("--pid", type=int, required=True, help="the server process, for its CPU time and RSS")
    parser.add_argument("--params", required=True, help="the scenario's parameters as a JSON object")
    args = parser.parse_args()
    _raise_fd_limit()
    # uvloop keeps the client cheap, so the server (not the load generator) is what gets measured.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(_scenario(args))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
