"""graphql-sse single connection mode end to end on a real uvicorn socket: a PUT reserves a stream (admitted by
`on_connect`), one GET opens it, POSTs start operations whose results arrive on it by operationId, DELETEs stop
them; tokens are one-use, expire unused, are bounded in number, and die with their stream."""

import re
from collections.abc import AsyncIterator, Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from livegql.core import json
from tests.support.live_helpers import COUNTER, Store, update
from tests.support.live_helpers import make_app as make_live_app
from tests.support.server import LiveServer, serve
from tests.support.streams import (
    EVENT_STREAM,
    Comment,
    Door,
    SSEReader,
    make_app,
    open_stream,
    publish,
    stream_client,
    subscribed,
)
from tests.support.waiting import until
from tests.transport.http_helpers import assert_error_response

TOKEN_HEADER = "x-graphql-event-stream-token"
BODY_LIMIT = 2048
QUERY_LIMIT = 300
WATCH = "subscription($t: String!) { topic(name: $t) }"


@pytest.fixture(scope="module")
def door() -> Door:
    return Door()


@pytest.fixture(scope="module")
def guarded(door: Door) -> Iterator[LiveServer]:
    with serve(make_app(door, max_body_bytes=BODY_LIMIT, max_query_bytes=QUERY_LIMIT)) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with stream_client() as client:
        yield client


async def reserve(http: httpx.AsyncClient, server: LiveServer, headers: dict[str, str] | None = None) -> str:
    response = await http.put(server.http_url, headers=headers or {})
    assert response.status_code == HTTPStatus.CREATED, response.text
    return response.text


def stream_of(http: httpx.AsyncClient, server: LiveServer, token: str) -> Any:
    """The reserved stream's GET, as a context manager yielding the response."""
    return open_stream(http, server.http_url, method="GET", headers={TOKEN_HEADER: token})


async def start(
    http: httpx.AsyncClient,
    server: LiveServer,
    token: str,
    operation_id: str | None,
    query: str,
    *,
    variables: dict[str, Any] | None = None,
    by_param: bool = False,
) -> httpx.Response:
    """POST an operation to the stream of `token` (in the header, or as `?token=`)."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    if operation_id is not None:
        payload["extensions"] = {"operationId": operation_id}
    headers = {"content-type": "application/json"}
    params = {"token": token} if by_param else None
    if not by_param:
        headers[TOKEN_HEADER] = token
    return await http.post(server.http_url, content=json.dumps_bytes(payload), headers=headers, params=params)


async def accepted(response: httpx.Response) -> None:
    assert response.status_code == HTTPStatus.ACCEPTED, response.text
    assert response.content == b""


async def stop(http: httpx.AsyncClient, server: LiveServer, token: str, operation_id: str) -> httpx.Response:
    return await http.delete(server.http_url, params={"operationId": operation_id}, headers={TOKEN_HEADER: token})


async def message(reader: SSEReader, kind: str = "next") -> dict[str, Any]:
    event = await reader.event()
    assert event.event == kind, event
    data: dict[str, Any] = event.json()
    return data


async def opened(reader: SSEReader) -> None:
    assert isinstance(await reader.item(), Comment)  # the first bytes: a comment that flushes the headers


async def status_of_post(http: httpx.AsyncClient, server: LiveServer, token: str) -> int:
    return (await start(http, server, token, "probe", "{ hello }")).status_code


async def test_a_reservation_is_a_long_random_text_token(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    response = await http.put(guarded.http_url)
    assert response.status_code == HTTPStatus.CREATED
    assert response.headers["content-type"].startswith("text/plain")
    first, second = response.text, await reserve(http, guarded)
    assert first != second
    for token in (first, second):
        assert len(token) >= 32
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token), token  # safe in a header and a query string


async def test_the_stream_opens_once_with_streaming_headers(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    token = await reserve(http, guarded)
    async with stream_of(http, guarded, token) as response:
        assert response.status_code == HTTPStatus.OK
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert "no-cache" in response.headers["cache-control"]
        assert response.headers["x-accel-buffering"] == "no"
        reader = SSEReader(response)  # held: a reader dropped mid-body closes its connection
        await opened(reader)
        second = await http.get(guarded.http_url, headers={TOKEN_HEADER: token, "accept": EVENT_STREAM})
        assert_error_response(second, HTTPStatus.CONFLICT)
        await accepted(await start(http, guarded, token, "after", "{ hello }"))  # the first stream still serves
        assert (await message(reader))["id"] == "after"


async def test_an_operation_is_accepted_and_its_results_arrive_by_id(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    token = await reserve(http, guarded)
    async with stream_of(http, guarded, token) as response:
        reader = SSEReader(response)
        await opened(reader)
        await accepted(
            await start(http, guarded, token, "q1", "query($n: String) { hello(name: $n) }", variables={"n": "one"})
        )
        assert await message(reader) == {"id": "q1", "payload": {"data": {"hello": "Hello, one!"}}}
        assert await message(reader, "complete") == {"id": "q1"}
        # A finished operation's id is free again.
        await accepted(await start(http, guarded, token, "q1", "{ add(a: 1, b: 2) }"))
        assert await message(reader) == {"id": "q1", "payload": {"data": {"add": 3}}}
        assert await message(reader, "complete") == {"id": "q1"}


async def test_two_operations_interleave_and_delete_stops_only_one(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    token = await reserve(http, guarded)
    async with stream_of(http, guarded, token) as response:
        reader = SSEReader(response)
        await accepted(await start(http, guarded, token, "a", WATCH, variables={"t": "single-a"}))
        await accepted(await start(http, guarded, token, "b", WATCH, variables={"t": "single-b"}))
        await subscribed(guarded, "single-a", 1)
        await subscribed(guarded, "single-b", 1)
        for topic, text in [("single-a", "a1"), ("single-b", "b1"), ("single-a", "a2"), ("single-b", "b2")]:
            await publish(guarded, topic, text)
            received = await message(reader)
            assert (received["id"], received["payload"]["data"]) == (topic[-1], {"topic": text})

        response_of_delete = await stop(http, guarded, token, "a")
        assert response_of_delete.status_code == HTTPStatus.OK
        await subscribed(guarded, "single-a", 0)
        await publish(guarded, "single-a", "a3")  # nobody listens any more
        await publish(guarded, "single-b", "b3")
        received = await message(reader)  # not a `complete` for "a", nor its event: the next one is b's
        assert (received["id"], received["payload"]["data"]) == ("b", {"topic": "b3"})


async def test_an_active_operation_id_is_409_and_a_missing_one_400(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    token = await reserve(http, guarded)
    async with stream_of(http, guarded, token) as response:
        reader = SSEReader(response)
        await accepted(await start(http, guarded, token, "dup", WATCH, variables={"t": "single-dup"}))
        await subscribed(guarded, "single-dup", 1)
        assert_error_response(await start(http, guarded, token, "dup", "{ hello }"), HTTPStatus.CONFLICT)
        assert_error_response(await start(http, guarded, token, None, "{ hello }"), HTTPStatus.BAD_REQUEST)
        await publish(guarded, "single-dup", "still")
        received = await message(reader)
        assert (received["id"], received["payload"]["data"]) == ("dup", {"topic": "still"})


async def test_a_validation_error_is_the_operations_only_result(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    token = await reserve(http, guarded)
    async with stream_of(http, guarded, token) as response:
        reader = SSEReader(response)
        await opened(reader)
        await accepted(await start(http, guarded, token, "bad", "{ nope }"))
        result = await message(reader)
        assert result["id"] == "bad"
        assert set(result["payload"]) == {"errors"}
        assert "nope" in result["payload"]["errors"][0]["message"]
        assert await message(reader, "complete") == {"id": "bad"}
        await accepted(await start(http, guarded, token, "good", "{ hello }"))  # the stream still serves
        assert await message(reader) == {"id": "good", "payload": {"data": {"hello": "Hello, world!"}}}


async def test_an_operation_before_the_stream_opens_is_409(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    token = await reserve(http, guarded)
    assert_error_response(await start(http, guarded, token, "early", "{ hello }"), HTTPStatus.CONFLICT)


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_an_unknown_token_is_404(guarded: LiveServer, http: httpx.AsyncClient, method: str) -> None:
    headers = {TOKEN_HEADER: "not-a-token-we-issued-" + "x" * 20, "accept": EVENT_STREAM}
    content = json.dumps_bytes({"query": "{ hello }", "extensions": {"operationId": "x"}})
    if method == "POST":
        headers["content-type"] = "application/json"
    response = await http.request(
        method,
        guarded.http_url,
        headers=headers,
        content=content if method == "POST" else None,
        params={"operationId": "x"} if method == "DELETE" else None,
    )
    assert_error_response(response, HTTPStatus.NOT_FOUND)


async def test_the_token_may_come_as_a_query_parameter(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    token = await reserve(http, guarded)
    async with open_stream(http, guarded.http_url, method="GET", params={"token": token}) as response:
        assert response.status_code == HTTPStatus.OK
        reader = SSEReader(response)
        await opened(reader)
        await accepted(await start(http, guarded, token, "p", "{ hello }", by_param=True))
        assert await message(reader) == {"id": "p", "payload": {"data": {"hello": "Hello, world!"}}}


async def test_the_put_is_admitted_and_its_context_serves_the_operations(
    guarded: LiveServer, door: Door, http: httpx.AsyncClient
) -> None:
    token = await reserve(http, guarded, headers={"authorization": "Bearer carol", "x-probe": "single-put"})
    assert [request["authorization"] for request in door.seen if request.get("x-probe") == "single-put"] == [
        "Bearer carol"
    ]
    async with stream_of(http, guarded, token) as response:
        reader = SSEReader(response)
        await accepted(await start(http, guarded, token, "me", "{ whoami }"))  # no credentials on the POST
        assert await message(reader) == {"id": "me", "payload": {"data": {"whoami": "carol"}}}


async def test_a_put_refused_by_on_connect_is_403_and_reserves_nothing(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    before = await reservations(guarded)
    response = await http.put(guarded.http_url, headers={"authorization": "Bearer no"})
    assert assert_error_response(response, HTTPStatus.FORBIDDEN) == "go away"
    assert await reservations(guarded) == before


async def test_limits_apply_to_operations(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    token = await reserve(http, guarded)
    async with stream_of(http, guarded, token) as response:
        reader = SSEReader(response)
        big_body = await start(http, guarded, token, "big", "{ hello }", variables={"pad": "x" * BODY_LIMIT})
        assert_error_response(big_body, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        big_query = await start(http, guarded, token, "long", "{ hello }" + " " * QUERY_LIMIT)
        assert_error_response(big_query, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        await accepted(await start(http, guarded, token, "fits", "{ hello }"))
        assert (await message(reader))["id"] == "fits"


async def test_the_stream_ending_stops_its_operations_and_forgets_the_token(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    token = await reserve(http, guarded)
    async with stream_of(http, guarded, token) as response:
        reader = SSEReader(response)
        await accepted(await start(http, guarded, token, "s", WATCH, variables={"t": "single-gone"}))
        await subscribed(guarded, "single-gone", 1)
        await publish(guarded, "single-gone", "seen")
        assert (await message(reader))["payload"]["data"] == {"topic": "seen"}
    await subscribed(guarded, "single-gone", 0)

    async def forgotten() -> bool:
        return await status_of_post(http, guarded, token) == HTTPStatus.NOT_FOUND

    await until(forgotten, what="the token to be forgotten")
    response = await http.get(guarded.http_url, headers={TOKEN_HEADER: token, "accept": EVENT_STREAM})
    assert_error_response(response, HTTPStatus.NOT_FOUND)  # one stream per token, once


async def reservations(server: LiveServer) -> int:
    async def count() -> int:
        return len(server.app._http.single)

    return await server.acall(count())


async def test_an_unused_reservation_expires(http: httpx.AsyncClient) -> None:
    with serve(make_app(Door(), sse_reservation_timeout=0.2)) as server:
        token = await reserve(http, server)
        assert await status_of_post(http, server, token) == HTTPStatus.CONFLICT  # reserved, not yet open

        async def expired() -> bool:
            return await status_of_post(http, server, token) == HTTPStatus.NOT_FOUND

        await until(expired, what="the reservation to expire")
        response = await http.get(server.http_url, headers={TOKEN_HEADER: token, "accept": EVENT_STREAM})
        assert_error_response(response, HTTPStatus.NOT_FOUND)
        assert await reservations(server) == 0


async def test_reservations_are_bounded_and_a_closed_stream_frees_its_place(http: httpx.AsyncClient) -> None:
    with serve(make_app(Door(), max_sse_reservations=2)) as server:
        first = await reserve(http, server)
        await reserve(http, server)
        full = await http.put(server.http_url)
        assert_error_response(full, HTTPStatus.SERVICE_UNAVAILABLE)
        async with stream_of(http, server, first) as response:
            reader = SSEReader(response)  # held: a reader dropped mid-body closes its connection
            await opened(reader)
            assert_error_response(await http.put(server.http_url), HTTPStatus.SERVICE_UNAVAILABLE)  # open: still held
            await accepted(await start(http, server, first, "held", "{ hello }"))
            assert (await message(reader))["id"] == "held"

        async def freed() -> bool:
            return await reservations(server) == 1

        await until(freed, what="the closed stream's reservation to be freed")
        await reserve(http, server)


async def test_a_live_query_on_the_stream_pushes_a_new_result_after_an_invalidation(http: httpx.AsyncClient) -> None:
    store = Store()
    with serve(make_live_app(store)) as server:
        token = await reserve(http, server)
        async with stream_of(http, server, token) as response:
            reader = SSEReader(response)
            await opened(reader)
            await accepted(await start(http, server, token, "live", COUNTER))
            assert await message(reader) == {"id": "live", "payload": {"data": {"counter": 0}}}

            def change() -> None:
                store.counter = 1

            await update(server, "Query.counter", change=change)
            assert await message(reader) == {"id": "live", "payload": {"data": {"counter": 1}}}
            await accepted_stop(await stop(http, server, token, "live"))


async def accepted_stop(response: httpx.Response) -> None:
    assert response.status_code == HTTPStatus.OK, response.text
