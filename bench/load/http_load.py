"""Scenario `http`: N keep-alive clients POST one query back to back; requests/s and latency, for each of the
measured queries in turn (the small `{ hello }`, then the items list), each with its own warm-up."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson

from bench.apps.common import make_items
from bench.load.http1 import HTTPConnection, connect_http, encode_post
from bench.load.stats import CpuWindow, latency_summary

# name -> (query text, the one correct answer); measured in this order, at the same concurrency.
QUERIES: dict[str, tuple[str, dict[str, Any]]] = {
    "hello": ("{ hello }", {"data": {"hello": "world"}}),
    "items": ("{ items(n: 20) { id name price } }", {"data": {"items": make_items(20)}}),
}


@dataclass
class HTTPParams:
    clients: int
    seconds: float  # measured, per query
    warmup_seconds: float  # unmeasured, before each query's measured window


class Counters:
    """What the workers of one query share: the measuring window, samples and problems."""

    def __init__(self, expected: dict[str, Any]) -> None:
        self.window: tuple[int, int] | None = None  # perf_counter_ns bounds once measuring starts
        self.stop = False
        self.latencies: list[int] = []
        self.errors = 0
        self.error_examples: list[str] = []
        self.expected = expected
        self.expected_body: bytes | None = None

    def problem(self, text: str) -> None:
        self.errors += 1
        if len(self.error_examples) < 5:
            self.error_examples.append(text)


def _check(counters: Counters, status: int, body: bytes) -> None:
    if status != 200:
        counters.problem(f"status {status}: {body[:200]!r}")
    elif counters.expected_body is None:
        # Validate the first answer in full; later ones must be byte-identical (the result never changes).
        if orjson.loads(body) != counters.expected:
            counters.problem(f"wrong result: {body[:200]!r}")
        else:
            counters.expected_body = body
    elif body != counters.expected_body:
        counters.problem(f"result changed: {body[:200]!r}")


async def _worker(host: str, port: int, raw: bytes, counters: Counters) -> None:
    connection: HTTPConnection | None = None
    while not counters.stop:
        if connection is None or connection.closed:
            connection = await connect_http(host, port)
        started = time.perf_counter_ns()
        try:
            status, body = await connection.request(raw)
        except ConnectionError as error:
            counters.problem(repr(error))
            continue
        ended = time.perf_counter_ns()
        window = counters.window
        if window is not None and started >= window[0] and ended <= window[1]:
            counters.latencies.append(ended - started)
        _check(counters, status, body)
    if connection is not None:
        connection.close()


async def _measure(host: str, port: int, path: str, name: str, *, pid: int, params: HTTPParams) -> dict[str, Any]:
    text, expected = QUERIES[name]
    raw = encode_post(host, port, path, orjson.dumps({"query": text}))
    counters = Counters(expected)
    cpu = CpuWindow(pid)
    async with asyncio.TaskGroup() as group:
        for _ in range(params.clients):
            group.create_task(_worker(host, port, raw, counters))
        await asyncio.sleep(params.warmup_seconds)
        start = time.perf_counter_ns()
        counters.window = (start, start + int(params.seconds * 1e9))
        cpu.start()
        await asyncio.sleep(params.seconds)
        usage = cpu.stop()
        counters.stop = True
    return {
        "query": text,
        "requests": len(counters.latencies),
        "requests_per_s": len(counters.latencies) / params.seconds,
        "latency": latency_summary(counters.latencies),
        "errors": counters.errors,
        "error_examples": counters.error_examples,
        "cpu": usage,
    }


async def run_http(host: str, port: int, path: str, pid: int, params: HTTPParams) -> dict[str, Any]:
    queries = {}
    for name in QUERIES:
        queries[name] = await _measure(host, port, path, name, pid=pid, params=params)
    return {
        "clients": params.clients,
        "seconds": params.seconds,
        "queries": queries,
        "errors": sum(result["errors"] for result in queries.values()),
        "error_examples": [f"{name}: {text}" for name, result in queries.items() for text in result["error_examples"]],
    }
