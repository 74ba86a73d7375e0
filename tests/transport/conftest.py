"""Fixtures shared by the transport tests: an httpx client that sends no default Accept, a shared server."""

from collections.abc import Iterator

import httpx
import pytest

from tests.support.server import LiveServer
from tests.transport.http_helpers import start


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """No default Accept header: each test says what it sends (httpx would add `*/*`)."""
    with httpx.Client(timeout=10.0) as http:
        del http.headers["accept"]
        yield http


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """One server for the tests that change nothing in it (starting uvicorn per test is the slow part)."""
    with start() as shared:
        yield shared
