"""graphql-sse's single connection mode under fuzz, over real HTTP: every request answered with the status the
protocol names, the stream carrying each operation's events, nothing left reserved, running or logged."""

import asyncio
import time

import httpx
import pytest
from hypothesis import strategies as st

from tests.fuzz.budget import Tally, run_rounds, target, time_limit
from tests.fuzz.conftest import ClientLoop
from tests.fuzz.sse_single import Action, play, scripts
from tests.support.server import LiveServer

TRANSPORT = "sse-single"


async def clients(client: httpx.AsyncClient, url: str, batch: list[list[Action]]) -> int:
    return sum(await asyncio.gather(*(play(client, url, actions) for actions in batch)))


@pytest.mark.timeout(time_limit(TRANSPORT))
def test_random_single_connection_scripts(clean_server: LiveServer, client_loop: ClientLoop) -> None:
    tally, started = Tally(), time.perf_counter()

    def example(batch: list[list[Action]]) -> None:
        sent = client_loop.run(clients(client_loop.http, clean_server.http_url, batch), timeout=120)
        tally.note("script", sent)

    run_rounds(st.lists(scripts(), min_size=1, max_size=3), example, target(TRANSPORT), tally)
    elapsed = time.perf_counter() - started
    print(f"\nfuzz {TRANSPORT}: {tally.frames} requests, {tally.examples} batches, {elapsed:.1f}s")
    assert tally.frames >= target(TRANSPORT)
