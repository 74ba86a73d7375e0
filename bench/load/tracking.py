"""Completeness and progress: which numbered messages each receiver got (lost, duplicated, out of order), and
the countdowns a driver awaits (with a timeout) instead of polling or sleeping.
"""

import asyncio
from collections.abc import Iterable
from typing import Any


class Countdown:
    """Set once `count` ticks arrived, or once aborted with a reason (so a waiter wakes up early on failure)."""

    def __init__(self, count: int) -> None:
        self.left = count
        self.reason: str | None = None
        self._done = asyncio.Event()
        if count <= 0:
            self._done.set()

    def tick(self) -> None:
        self.left -= 1
        if self.left == 0:
            self._done.set()

    def abort(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self._done.set()

    async def wait(self, seconds: float) -> bool:
        """True when every tick came within `seconds`; False on timeout or abort (then `reason` says why)."""
        try:
            async with asyncio.timeout(seconds):
                await self._done.wait()
        except TimeoutError:
            return False
        return self.left <= 0 and self.reason is None


class Stream:
    """What one receiver got of the messages numbered 0 .. expected - 1, and when.

    A message is a duplicate if its number came before, out of order if a higher number came before it, and lost
    if it never came. `latencies` holds one sample per first receipt.
    """

    __slots__ = ("duplicated", "expected", "highest", "last_at", "latencies", "out_of_order", "received", "seen")

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.seen = bytearray(expected)
        self.received = 0
        self.duplicated = 0
        self.out_of_order = 0
        self.highest = -1
        self.last_at = 0
        self.latencies: list[int] = []

    def receive(self, index: int, latency_ns: int, at_ns: int) -> bool:
        """Record message `index`; True when it completes the stream (the first time every number is in)."""
        if self.seen[index]:
            self.duplicated += 1
            return False
        self.seen[index] = 1
        self.received += 1
        if index < self.highest:
            self.out_of_order += 1
        else:
            self.highest = index
        self.latencies.append(latency_ns)
        self.last_at = at_ns
        return self.received == self.expected

    def in_range(self, index: int) -> bool:
        return 0 <= index < self.expected


def completeness(streams: Iterable[Stream]) -> dict[str, Any]:
    """Totals over all receivers: every one should have got every message exactly once, in order."""
    expected = delivered = duplicated = out_of_order = incomplete = 0
    for stream in streams:
        expected += stream.expected
        delivered += stream.received
        duplicated += stream.duplicated
        out_of_order += stream.out_of_order
        incomplete += stream.received != stream.expected
    return {
        "expected": expected,
        "delivered": delivered,
        "lost": expected - delivered,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "subscribers_incomplete": incomplete,
    }
