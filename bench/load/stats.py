"""Latency summaries, the CPU-time window a measurement runs in, and the server's RSS over it."""

import time
from collections.abc import Sequence
from typing import Any

from bench.procfs import cpu_seconds, rss_bytes


def percentile(ordered: list[int], fraction: float) -> int:
    """Nearest-rank percentile of an already sorted, non-empty list."""
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def latency_summary(samples_ns: list[int]) -> dict[str, float | int | None]:
    """p50, p99 and max in milliseconds (None when there are no samples)."""
    if not samples_ns:
        return {"samples": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(samples_ns)
    return {
        "samples": len(ordered),
        "p50_ms": percentile(ordered, 0.50) / 1e6,
        "p99_ms": percentile(ordered, 0.99) / 1e6,
        "max_ms": ordered[-1] / 1e6,
    }


class CpuWindow:
    """Wall time and the CPU time both server and load generator used between `start()` and `stop()`.

    A client near 100% of one core means the client, not the server, may be the bottleneck.
    """

    def __init__(self, server_pid: int | Sequence[int]) -> None:
        # Several pids (two server processes sharing a broker) count as one server: their CPU times add up.
        self.server_pids = (server_pid,) if isinstance(server_pid, int) else tuple(server_pid)
        self._start = (0.0, 0.0, 0.0)

    def _server_cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.server_pids)

    def start(self) -> None:
        self._start = (time.perf_counter(), self._server_cpu(), time.process_time())

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self._start[0]
        server = self._server_cpu() - self._start[1]
        client = time.process_time() - self._start[2]
        return {
            "wall_s": wall,
            "server_cpu_s": server,
            "client_cpu_s": client,
            "server_cpu_pct": 100 * server / wall if wall > 0 else None,
            "client_cpu_pct": 100 * client / wall if wall > 0 else None,
        }


def server_cpu_us_per(usage: dict[str, Any], units: int) -> float | None:
    """The server's CPU time in a window, in microseconds per unit of work done in it (a delivery, a client)."""
    return usage["server_cpu_s"] * 1e6 / units if units > 0 else None


class RssPeak:
    """The server's RSS when made, and the highest of the readings taken whenever `sample()` is called."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = self.peak = rss_bytes(pid)

    def sample(self) -> None:
        self.peak = max(self.peak, rss_bytes(self.pid))

    def report(self) -> dict[str, float]:
        end = rss_bytes(self.pid)
        self.peak = max(self.peak, end)
        return {
            "rss_before_mib": self.before / 2**20,
            "rss_peak_mib": self.peak / 2**20,
            "rss_end_mib": end / 2**20,
            "rss_growth_mib": (self.peak - self.before) / 2**20,
        }
