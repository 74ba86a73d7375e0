"""Random and mutated requests over real HTTP: GraphQL over HTTP, graphql-sse's distinct connections mode and
Apollo multipart subscriptions. Every answer has a status the spec allows (never a 5xx) and a well-formed
GraphQL body or stream; nothing is logged as an error; nothing leaks."""

import asyncio
import time

import httpx
import pytest

from tests.fuzz.budget import Tally, run_rounds, target, time_limit
from tests.fuzz.conftest import ClientLoop
from tests.fuzz.http_driver import Answer, check, release, send
from tests.fuzz.http_strategies import EVENT_STREAM, MULTIPART, Request, http_requests, stream_requests
from tests.support.server import LiveServer

STRATEGIES = {
    "http": http_requests(),
    "sse-distinct": stream_requests(EVENT_STREAM),
    "multipart": stream_requests(MULTIPART),
}


async def exchange(client: httpx.AsyncClient, url: str, requests: list[Request]) -> tuple[list[Answer], int]:
    """Send `requests` at once; release any single-connection reservation a PUT made. Returns the answers and
    how many requests went out."""
    answers = await asyncio.gather(*(send(client, url, request) for request in requests))
    extra = 0
    for answer in answers:
        if answer.status == 201:
            extra += await release(client, url, answer.body.decode())
    return list(answers), len(requests) + extra


@pytest.mark.timeout(max(time_limit(name) for name in STRATEGIES))
@pytest.mark.parametrize("transport", sorted(STRATEGIES))
def test_random_and_mutated_requests(transport: str, clean_server: LiveServer, client_loop: ClientLoop) -> None:
    tally, started = Tally(), time.perf_counter()

    def example(requests: list[Request]) -> None:
        answers, sent = client_loop.run(exchange(client_loop.http, clean_server.http_url, requests), timeout=120)
        for request, answer in zip(requests, answers, strict=True):
            check(request, answer)
            tally.note(f"{answer.status} {answer.content_type.split(';')[0]}".strip(), 0)
        tally.frames += sent

    run_rounds(STRATEGIES[transport], example, target(transport), tally)
    elapsed = time.perf_counter() - started
    print(f"\nfuzz {transport}: {tally.frames} requests, {elapsed:.1f}s, statuses {tally.outcomes}")
    assert tally.frames >= target(transport)
