"""Reconnection delays: exponential growth, capped, with jitter so that many clients do not retry in step."""

import random
from collections.abc import Iterator


class Backoff:
    """Attempt n (from 0) waits a random time between half and all of min(maximum, initial * 2**n)."""

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 10.0,
        max_attempts: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if max_attempts is not None and max_attempts < 0:
            raise ValueError("max_attempts must be None (no limit) or >= 0")
        self.initial = initial
        self.maximum = maximum
        self.max_attempts = max_attempts
        self._rng = rng or random.Random()

    def delay(self, attempt: int) -> float:
        # "Equal jitter": half the step is kept so retries never collapse to a busy loop.
        step = min(self.maximum, self.initial * 2.0 ** min(attempt, 64))
        return step / 2 + self._rng.uniform(0, step / 2)

    def delays(self) -> Iterator[float]:
        """One delay per attempt: endless when max_attempts is None."""
        attempt = 0
        while self.max_attempts is None or attempt < self.max_attempts:
            yield self.delay(attempt)
            attempt += 1
