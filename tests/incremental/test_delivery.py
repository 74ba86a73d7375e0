"""@defer and @stream end to end on graphql-core 3.3, over a real server: each payload is its own result message
on every transport that streams a query (graphql-transport-ws, legacy graphql-ws, plain mode, SSE in both modes),
the first before the deferred work is done; errors are masked; stopping the operation stops the work."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from livegql.core import json
from livegql.engine.results import MASKED_MESSAGE
from tests.conformance.base import STEP_TIMEOUT, Conformer
from tests.conformance.http_clients import SSEDistinct, SSESingle, sse_events
from tests.conformance.ws_clients import LegacyWS, PlainWS, TransportWS, connect_ws
from tests.incremental.holds import SECRET, Hold, Holds
from tests.support.server import LiveServer

pytestmark = pytest.mark.gql33

TRANSPORTS = ("graphql-transport-ws", "legacy-graphql-ws", "plain-ws", "sse-distinct", "sse-single")
COMPLETING = {transport: transport != "plain-ws" for transport in TRANSPORTS}  # plain mode sends no Complete
DEFER = "query($k: String!) { hello ... @defer { held(key: $k) } }"
STREAM = "query($k: String) { letters(key: $k) @stream(initialCount: 1) }"
TOKEN = "anyone"  # the adapters send a token; this app has no on_connect to check it
INITIAL = {"data": {"hello": "world"}, "pending": [{"id": "0", "path": []}], "hasNext": True}


def deferred(hold: Hold) -> dict[str, Any]:
    """The last payload of DEFER: the held field, and its fragment completed."""
    return {
        "incremental": [{"data": {"held": f"released {hold.key}"}, "id": "0"}],
        "completed": [{"id": "0"}],
        "hasNext": False,
    }


@asynccontextmanager
async def connected(transport: str, server: LiveServer) -> AsyncIterator[Conformer]:
    """A client of `transport` (the conformance suite's hand-written adapters; this app admits everyone)."""
    client: Conformer
    if transport == "graphql-transport-ws":
        client = await connect_ws(TransportWS, server.ws_url, TOKEN)
    elif transport == "legacy-graphql-ws":
        client = await connect_ws(LegacyWS, server.ws_url, TOKEN)
    elif transport == "plain-ws":
        client = await connect_ws(PlainWS, server.ws_url, TOKEN)
    elif transport == "sse-distinct":
        client = SSEDistinct(server.http_url, TOKEN)
    else:
        client = await SSESingle.connect(server.http_url, TOKEN)
    try:
        yield client
    finally:
        await client.aclose()


async def until_last(operation: Any) -> list[dict[str, Any]]:
    """Every payload up to the one with hasNext false."""
    payloads = [await operation.next()]
    while payloads[-1]["hasNext"]:
        payloads.append(await operation.next())
    return payloads


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_initial_payload_arrives_before_the_deferred_field_resolves(
    transport: str, served: LiveServer, holds: Holds
) -> None:
    hold = holds.new()
    async with connected(transport, served) as client:
        operation = await client.subscribe(DEFER, {"k": hold.key})
        assert await operation.next() == INITIAL
        await hold.until_started()
        assert not hold.finished.is_set()
        hold.release(served)
        assert await operation.next() == deferred(hold)
        assert await operation.ended() is (True if COMPLETING[transport] else None)


async def test_stream_sends_the_initial_items_then_each_later_one(served: LiveServer, holds: Holds) -> None:
    hold = holds.new()
    async with connected("graphql-transport-ws", served) as client:
        operation = await client.subscribe(STREAM, {"k": hold.key})
        initial = await operation.next()
        assert initial == {"data": {"letters": ["a"]}, "pending": [{"id": "0", "path": ["letters"]}], "hasNext": True}
        await hold.until_started()  # the source waits after "a": nothing more can have been sent
        hold.release(served)
        later = await until_last(operation)
        items = [item for payload in later for entry in payload.get("incremental", ()) for item in entry["items"]]
        assert items == ["b", "c"]
        assert {entry["id"] for payload in later for entry in payload.get("incremental", ())} == {"0"}
        assert later[-1]["completed"] == [{"id": "0"}]
        assert await operation.ended() is True


async def test_errors_inside_a_deferred_fragment_are_masked(served: LiveServer) -> None:
    async with connected("graphql-transport-ws", served) as client:
        operation = await client.subscribe("{ hello ... @defer { broken } }")
        assert await operation.next() == INITIAL
        [payload] = await until_last(operation)
        [entry] = payload["incremental"]
        assert entry["data"] == {"broken": None}
        [error] = entry["errors"]
        assert (error["message"], error["extensions"]) == (MASKED_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"})
        assert error["path"] == ["broken"]
        assert SECRET not in str(payload)


async def test_a_deferred_fragment_that_fails_whole_completes_with_masked_errors(served: LiveServer) -> None:
    async with connected("graphql-transport-ws", served) as client:
        operation = await client.subscribe("{ hello ... @defer { brokenRequired } }")
        assert await operation.next() == INITIAL
        [payload] = await until_last(operation)
        assert "incremental" not in payload  # a non-null field failed: the fragment has no data to deliver
        [completed] = payload["completed"]
        assert completed["id"] == "0"
        assert [error["message"] for error in completed["errors"]] == [MASKED_MESSAGE]
        assert SECRET not in str(payload)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_stopping_the_operation_cancels_the_deferred_work(
    transport: str, served: LiveServer, holds: Holds
) -> None:
    hold = holds.new()
    async with connected(transport, served) as client:
        operation = await client.subscribe(DEFER, {"k": hold.key})
        assert await operation.next() == INITIAL
        await hold.until_started()
        await operation.cancel()
        await hold.until_stopped()
        assert not hold.finished.is_set()


async def test_stopping_a_stream_closes_its_source(served: LiveServer, holds: Holds) -> None:
    hold = holds.new()
    async with connected("graphql-transport-ws", served) as client:
        operation = await client.subscribe(STREAM, {"k": hold.key})
        await operation.next()
        await hold.until_started()
        await operation.cancel()
        await hold.until_stopped()
        assert not hold.finished.is_set()


@pytest.mark.parametrize("transport", ["graphql-transport-ws", "sse-distinct"])
async def test_the_client_leaving_cancels_the_deferred_work(transport: str, served: LiveServer, holds: Holds) -> None:
    hold = holds.new()
    async with connected(transport, served) as client:
        operation = await client.subscribe(DEFER, {"k": hold.key})
        assert await operation.next() == INITIAL
        await hold.until_started()
    await hold.until_stopped()
    assert not hold.finished.is_set()


async def test_sse_distinct_sends_each_payload_as_a_next_event_then_complete(served: LiveServer, holds: Holds) -> None:
    hold = holds.new()
    body = {"query": DEFER, "variables": {"k": hold.key}}
    async with (
        httpx.AsyncClient(timeout=STEP_TIMEOUT) as http,
        http.stream("POST", served.http_url, json=body, headers={"accept": "text/event-stream"}) as response,
    ):
        assert response.status_code == HTTPStatus.OK
        events = sse_events(response)
        async with asyncio.timeout(STEP_TIMEOUT):
            event, data = await anext(events)
            assert (event, json.loads(data)) == ("next", INITIAL)
            await hold.until_started()
            hold.release(served)
            event, data = await anext(events)
            assert (event, json.loads(data)) == ("next", deferred(hold))
            assert [item async for item in events] == [("complete", "")]  # and then the body ends


async def test_plain_http_json_answers_one_complete_result(served: LiveServer, holds: Holds) -> None:
    hold = holds.new()
    hold.release(served)
    async with httpx.AsyncClient(timeout=STEP_TIMEOUT) as http:
        body = {"query": DEFER, "variables": {"k": hold.key}}
        response = await http.post(served.http_url, json=body, headers={"accept": "application/json"})
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"data": {"hello": "world", "held": f"released {hold.key}"}}


async def test_defer_if_false_is_one_result(served: LiveServer, holds: Holds) -> None:
    hold = holds.new()
    hold.release(served)
    query = "query($k: String!) { hello ... @defer(if: false) { held(key: $k) } }"
    async with connected("graphql-transport-ws", served) as client:
        operation = await client.subscribe(query, {"k": hold.key})
        assert await operation.next() == {"data": {"hello": "world", "held": f"released {hold.key}"}}
        assert await operation.ended() is True


async def test_operations_on_one_socket_defer_independently(served: LiveServer, holds: Holds) -> None:
    first, second = holds.new(), holds.new()
    async with connected("graphql-transport-ws", served) as client:
        one = await client.subscribe(DEFER, {"k": first.key})
        two = await client.subscribe(DEFER, {"k": second.key})
        assert await one.next() == INITIAL
        assert await two.next() == INITIAL
        second.release(served)
        assert await two.next() == deferred(second)
        assert await two.ended() is True
        first.release(served)
        assert await one.next() == deferred(first)
        assert await one.ended() is True
