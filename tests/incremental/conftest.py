"""Incremental delivery tests: one server per module, serving the holds schema (see holds.py)."""

from collections.abc import Iterator

import pytest

from tests.incremental.holds import Holds, make_app
from tests.support.server import LiveServer, serve


@pytest.fixture(scope="module")
def holds() -> Holds:
    return Holds()


@pytest.fixture(scope="module")
def served(holds: Holds) -> Iterator[LiveServer]:
    with serve(make_app(holds)) as server:
        yield server
