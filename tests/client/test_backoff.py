"""Reconnection delays: doubling, capped, jittered within bounds, as many as allowed."""

import random

import pytest

from livegql.client import Backoff


def test_delays_double_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    backoff = Backoff(initial=0.5, maximum=10.0, rng=random.Random(7))
    for attempt, step in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]):
        delays = {backoff.delay(attempt) for _ in range(50)}
        assert all(step / 2 <= delay <= step for delay in delays)
        assert len(delays) > 1  # jittered, not in lock step


def test_the_number_of_delays_is_max_attempts_or_endless() -> None:
    assert len(list(Backoff(max_attempts=4).delays())) == 4
    assert list(Backoff(max_attempts=0).delays()) == []
    endless = Backoff(initial=0.1, maximum=0.2).delays()
    assert all(0.05 <= next(endless) <= 0.2 for _ in range(10_000))


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert 5.0 <= Backoff(maximum=10.0).delay(10_000) <= 10.0


@pytest.mark.parametrize(("initial", "maximum", "attempts"), [(0, 1, None), (2, 1, None), (-1, 1, None), (1, 2, -1)])
def test_nonsense_settings_are_refused(initial: float, maximum: float, attempts: int | None) -> None:
    with pytest.raises(ValueError, match=r"backoff|max_attempts"):
        Backoff(initial, maximum, attempts)
