"""Execution-time statistics as plain numbers: the executor and the hubs add to them in place, and the metrics
endpoint reads them at scrape time, so measuring costs an execution two clock reads and a bisect."""

from bisect import bisect_left

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds in seconds: a compiled subscription event takes microseconds, a slow resolver seconds."""


class Histogram:
    """Observations counted per bucket (not cumulative; `cumulative` makes Prometheus' view of them)."""

    __slots__ = ("counts", "running", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last one past every bound (+Inf)
        self.sum = 0.0
        self.running = 0
        """Executions in progress (queries and mutations: how many are being answered right now)."""

    def observe(self, seconds: float) -> None:
        # bisect_left: a value equal to a bound belongs to that bucket, as Prometheus' `le` says.
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.sum += seconds

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, float]]:
        """`(le, observations at or below it)` for every bound, then `+Inf`."""
        total, out = 0, []
        for bound, count in zip((*(repr(b) for b in BUCKETS), "+Inf"), self.counts, strict=True):
            total += count
            out.append((bound, float(total)))
        return out


class ExecutionStats:
    """One histogram of execution times per kind of operation."""

    __slots__ = ("live", "mutation", "query", "subscription")

    def __init__(self) -> None:
        self.query = Histogram()
        self.mutation = Histogram()
        self.subscription = Histogram()
        """One observation per event per distinct subscription (shared by its subscribers)."""
        self.live = Histogram()
        """One observation per live-query execution (shared by its watchers)."""

    def by_kind(self) -> dict[str, Histogram]:
        return {"query": self.query, "mutation": self.mutation, "subscription": self.subscription, "live": self.live}
