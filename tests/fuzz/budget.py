"""How many frames the fuzz run sends, and the hypothesis settings every fuzz test shares.

CI sends FRAMES_DEFAULT frames over all transports together; `LIVEGQL_FUZZ_FRAMES=100000` is the full run. Each
transport gets a fixed share. Hypothesis runs derandomised rounds, each with its own fixed seed and no database,
until the transport's share is sent: the same frames every run.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

FRAMES_DEFAULT: Final = 10_000
SHARES: Final = {
    "graphql-transport-ws": 0.27,
    "legacy-graphql-ws": 0.18,
    "plain-ws": 0.12,
    "http": 0.16,
    "sse-distinct": 0.09,
    "multipart": 0.08,
    "sse-single": 0.10,
}
EXAMPLES_PER_ROUND: Final = 60
MAX_ROUNDS: Final = 10_000


def total_frames() -> int:
    return int(os.environ.get("LIVEGQL_FUZZ_FRAMES", FRAMES_DEFAULT))


def target(transport: str) -> int:
    """This transport's share of the run: at least one frame."""
    return max(1, round(total_frames() * SHARES[transport]))


def time_limit(transport: str, frames_per_second: float = 300.0) -> float:
    """pytest-timeout for one transport's test: generous for a busy 2-vCPU machine, still bounded."""
    return max(60.0, 3 * target(transport) / frames_per_second)


@dataclass
class Tally:
    """Frames sent (one per WebSocket message or HTTP request) and what the server answered, by kind."""

    frames: int = 0
    examples: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def note(self, outcome: str, frames: int) -> None:
        self.frames += frames
        self.examples += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def fuzz_settings(examples: int = EXAMPLES_PER_ROUND) -> settings:
    # No shrinking against a live server (it could run for minutes); a failure prints the example it found.
    return settings(
        max_examples=examples,
        derandomize=False,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def run_rounds(strategy: st.SearchStrategy[Any], check: Callable[[Any], None], goal: int, tally: Tally) -> None:
    """Run `check` (which counts what it sends in `tally`) on examples of `strategy`, in rounds seeded 0, 1,
    2, ... until `goal` frames are sent."""
    for round_number in range(MAX_ROUNDS):
        if tally.frames >= goal:
            return
        seed(round_number)(fuzz_settings()(given(strategy)(check)))()
    raise AssertionError(f"only {tally.frames} of {goal} frames after {MAX_ROUNDS} rounds")
