"""The fanout-redis scenario's plan: the in-memory livegql fanout run as is, then the same sizes on two livegql
processes sharing one Redis broker (bench/apps/livegql_redis_app.py, driven by bench/load/fanout_redis.py).

Both processes are pinned to the server CPU, like the one process they are compared with, so the load generator
keeps its own CPU and the sum of their CPU time is comparable. Redis is not ours to pin: its CPU time is reported
on its own. Each run uses a fresh key prefix (keys and channels), whose keys are deleted afterwards; nothing else
in the Redis database is touched.
"""

import contextlib
import os
import secrets
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from bench.machine import Pinning, children_pinned
from bench.procfs import affinity, cpu_seconds
from bench.runner import load_timeout, run_fresh, run_load, scenario_params
from bench.servers import BenchError, RunningServer, ServerSpec, running
from bench.sizes import Sizes

SCENARIO = "fanout-redis"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
MEMORY, REDIS = "livegql", "livegql-redis"  # the table's rows: the in-memory baseline, then the pair
APP = "bench.apps.livegql_redis_app:app"
BROKER_URL_ENV = "LIVEGQL_BROKER_URL"  # livegql.broker.pubsub.BROKER_URL_ENV
PREFIX_ENV = "LIVEGQL_BENCH_REDIS_PREFIX"  # bench/apps/livegql_redis_app.py
SPEC = ServerSpec(REDIS, lambda fd: [sys.executable, "-m", "bench.serve", "--fd", str(fd), APP])
CHECK_TIMEOUT = 2.0
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def unavailable(url: str) -> str | None:
    """Why the scenario cannot run here (no redis-py, no Redis backend in livegql, Redis not answering), if so."""
    try:
        import redis
    except ImportError:
        return "redis-py is not installed (pip install redis)"
    try:
        from livegql.broker.redis import RedisBackend  # noqa: F401
    except ImportError as error:
        return f"livegql has no Redis backend here ({error})"
    try:
        with redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT) as client:
            client.ping()
    except redis.RedisError as error:
        return f"Redis at {url} does not answer ({error}); start one or pass --redis-url"
    return None


def run_fanout_redis(servers: list[str], sizes: Sizes, pinning: Pinning, url: str) -> dict[str, dict[str, Any]]:
    """Both rows of the scenario's table; a `skipped` row with the reason when it cannot run."""
    if MEMORY not in servers:
        return {REDIS: {"skipped": f"needs {MEMORY} among --only"}}
    reason = unavailable(url)
    if reason is not None:
        return {REDIS: {"skipped": reason}}
    params = scenario_params("fanout", sizes)
    limit = load_timeout("fanout", sizes)
    print(f"[bench]   {SCENARIO} / {MEMORY}: one process, in memory ...", file=sys.stderr, flush=True)
    memory = run_fresh(MEMORY, "fanout", params, limit, pinning)
    print(f"[bench]   {SCENARIO} / {REDIS}: two processes through {url} ...", file=sys.stderr, flush=True)
    return {MEMORY: memory, REDIS: _run_pair(params, limit, pinning, url)}


def _run_pair(params: dict[str, Any], limit: float, pinning: Pinning, url: str) -> dict[str, Any]:
    began = time.monotonic()
    prefix = f"livegql-bench-{secrets.token_hex(6)}:"
    env = os.environ | {BROKER_URL_ENV: url, PREFIX_ENV: prefix}
    pair: list[RunningServer] = []
    redis_version, redis_pid = _redis_server(url)
    try:
        with contextlib.ExitStack() as stack:
            with children_pinned(pinning.server_cpus):
                pair += [stack.enter_context(running(SPEC, env)) for _ in range(2)]
            first, second = pair
            peer = {"peer_port": second.port, "peer_pid": second.pid, "redis_pid": redis_pid}
            server_cpus = [affinity(server.pid) for server in pair]
            result = run_load(first, SCENARIO, params | peer, limit, pinning.load_cpus)
    except BenchError as error:
        result = {"error": str(error)}
        server_cpus = []
    finally:
        deleted = _delete_keys(url, prefix)
    return result | {
        "server_cpus": server_cpus,
        "redis_cpus": affinity(redis_pid) if redis_pid is not None else None,
        "redis_url": url,
        "redis_version": redis_version,
        "key_prefix": prefix,
        "keys_deleted": deleted,
        # One log for both, each line tagged with its server, as the report shows a row's log.
        "server_log": [f"[{index}] {line}" for index, server in enumerate(pair) for line in server.final_log],
        "elapsed_s": time.monotonic() - began,
    }


def _redis_server(url: str) -> tuple[str | None, int | None]:
    """Redis's version, and its pid when it runs on this machine and its CPU clock can be read (so that its CPU
    time can be shown). The pid Redis reports is that of its own pid namespace: it counts only if that process
    here is Redis."""
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT) as client:
            info = client.info("server")
        version, pid = str(info["redis_version"]), int(info["process_id"])
    except (redis.RedisError, KeyError, ValueError):
        return None, None
    if urlsplit(url).hostname not in LOOPBACK:
        return version, None
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as comm:
            if not comm.read().startswith("redis"):
                return version, None
        cpu_seconds(pid)
    except OSError:
        return version, None
    return version, pid


def _delete_keys(url: str, prefix: str) -> int | str:
    """Delete this run's keys (and only them); their count, or why they could not be deleted."""
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT) as client:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            for start in range(0, len(keys), 1000):
                client.unlink(*keys[start : start + 1000])
    except redis.RedisError as error:
        return f"not deleted: {error}"
    return len(keys)
