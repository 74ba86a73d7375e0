"""Apollo's multipart HTTP subscriptions end to end on a real uvicorn socket: a subscription or live query asked
for with `multipart/mixed;subscriptionSpec=1.0` streams its results as JSON parts, each handed to the client as
soon as it is written (a part is complete once its delimiter arrives), with heartbeats, under `on_connect`."""

from collections.abc import AsyncIterator, Iterator
from http import HTTPStatus

import httpx
import pytest

from livegql.core import json
from tests.support.live_helpers import COUNTER, Store, update
from tests.support.live_helpers import make_app as make_live_app
from tests.support.server import LiveServer, serve
from tests.support.streams import (
    MULTIPART,
    Door,
    MultipartParser,
    MultipartReader,
    make_app,
    open_stream,
    publish,
    stream_client,
    subscribed,
)
from tests.transport.http_helpers import assert_error_response

APOLLO_ACCEPT = f"{MULTIPART}, application/json"  # what Apollo Client's HttpLink sends for a subscription
WATCH = "subscription($t: String!) { topic(name: $t) }"
SUBSCRIPTION_OVER_HTTP = "Subscriptions need a streaming transport"


@pytest.fixture(scope="module")
def door() -> Door:
    return Door()


@pytest.fixture(scope="module")
def guarded(door: Door) -> Iterator[LiveServer]:
    with serve(make_app(door)) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with stream_client() as client:
        yield client


async def test_a_subscription_streams_a_hundred_parts_in_order_then_the_close_delimiter(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    payload = {"query": "subscription { count(to: 100) }"}
    async with open_stream(http, guarded.http_url, payload, accept=APOLLO_ACCEPT) as response:
        assert response.status_code == HTTPStatus.OK
        assert response.headers["content-type"] == 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0'
        assert "no-cache" in response.headers["cache-control"]
        assert response.headers["x-accel-buffering"] == "no"
        reader = MultipartReader(response)
        first = await reader.part()
        assert first is not None
        assert first.heartbeat  # the opening part: the client sees the response before any event
        assert first.headers == {"content-type": "application/json"}
        values = [(await reader.payload())["payload"]["data"]["count"] for _ in range(100)]
        await reader.end()
    assert values == list(range(1, 101))
    assert reader.raw.endswith(b"\r\n--graphql--\r\n")


async def test_each_event_is_complete_before_the_next_is_written(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    """No heartbeats here, and nothing after the event: the client still has the whole part at once."""
    payload = {"query": WATCH, "variables": {"t": "multipart-now"}}
    async with open_stream(http, guarded.http_url, payload, accept=APOLLO_ACCEPT) as response:
        reader = MultipartReader(response)
        opening = await reader.part()
        assert opening is not None
        assert opening.heartbeat
        await subscribed(guarded, "multipart-now", 1)
        for text in ("one", "two"):
            await publish(guarded, "multipart-now", text)
            assert (await reader.payload())["payload"]["data"] == {"topic": text}


async def test_heartbeat_parts_flow_while_nothing_happens(http: httpx.AsyncClient) -> None:
    with serve(make_app(Door(), keepalive_interval=0.05)) as server:
        payload = {"query": WATCH, "variables": {"t": "multipart-quiet"}}
        async with open_stream(http, server.http_url, payload, accept=APOLLO_ACCEPT) as response:
            reader = MultipartReader(response)
            for _ in range(4):  # the opening part, then heartbeats
                part = await reader.part(limit=2.0)
                assert part is not None
                assert part.body == {}


async def test_a_query_from_a_client_that_also_accepts_json_is_plain_json(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    headers = {"accept": APOLLO_ACCEPT, "content-type": "application/json"}
    response = await http.post(guarded.http_url, content=json.dumps_bytes({"query": "{ hello }"}), headers=headers)
    assert response.status_code == HTTPStatus.OK
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"data": {"hello": "Hello, world!"}}


async def test_a_query_from_a_client_that_accepts_only_multipart_is_one_part(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    async with open_stream(http, guarded.http_url, {"query": "{ hello }"}, accept=MULTIPART) as response:
        assert response.headers["content-type"].startswith("multipart/mixed")
        reader = MultipartReader(response)
        assert await reader.payload() == {"payload": {"data": {"hello": "Hello, world!"}}}
        await reader.end()


async def test_a_validation_error_is_a_graphql_error_response(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    headers = {"accept": APOLLO_ACCEPT, "content-type": "application/json"}
    content = json.dumps_bytes({"query": "subscription { nope }"})
    response = await http.post(guarded.http_url, content=content, headers=headers)
    assert "nope" in assert_error_response(response, HTTPStatus.OK)  # application/json: request errors are 200


async def test_an_error_of_the_source_ends_the_body_with_an_error_part(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    payload = {"query": "subscription { failing }"}
    async with open_stream(http, guarded.http_url, payload, accept=APOLLO_ACCEPT) as response:
        reader = MultipartReader(response)
        assert (await reader.payload())["payload"]["data"] == {"failing": 1}
        error = await reader.payload()
        assert set(error) == {"payload"}
        assert [set(item) >= {"message"} for item in error["payload"]["errors"]] == [True]
        await reader.end()


async def test_on_connect_refuses_with_403_before_any_part(
    guarded: LiveServer, door: Door, http: httpx.AsyncClient
) -> None:
    before = len(door.ran)
    headers = {"accept": APOLLO_ACCEPT, "content-type": "application/json", "authorization": "Bearer no"}
    content = json.dumps_bytes({"query": 'subscription { topic(name: "multipart-refused") }'})
    response = await http.post(guarded.http_url, content=content, headers=headers)
    assert assert_error_response(response, HTTPStatus.FORBIDDEN) == "go away"
    assert door.ran[before:] == []


async def test_the_client_leaving_releases_the_subscription(guarded: LiveServer, http: httpx.AsyncClient) -> None:
    payload = {"query": WATCH, "variables": {"t": "multipart-leaving"}}
    async with open_stream(http, guarded.http_url, payload, accept=APOLLO_ACCEPT) as response:
        reader = MultipartReader(response)
        await subscribed(guarded, "multipart-leaving", 1)
        await publish(guarded, "multipart-leaving", "one")
        assert (await reader.payload())["payload"]["data"] == {"topic": "one"}
    await subscribed(guarded, "multipart-leaving", 0)


async def test_with_multipart_off_a_subscription_gets_the_plain_http_answer(http: httpx.AsyncClient) -> None:
    with serve(make_app(Door(), multipart_protocol=False)) as server:
        content = json.dumps_bytes({"query": "subscription { count(to: 2) }"})
        headers = {"accept": APOLLO_ACCEPT, "content-type": "application/json"}
        response = await http.post(server.http_url, content=content, headers=headers)
        assert SUBSCRIPTION_OVER_HTTP in assert_error_response(response, HTTPStatus.OK)
        headers["accept"] = MULTIPART
        response = await http.post(server.http_url, content=content, headers=headers)
        assert_error_response(response, HTTPStatus.NOT_ACCEPTABLE)


async def test_a_live_query_pushes_a_new_result_after_an_invalidation(http: httpx.AsyncClient) -> None:
    store = Store()
    with serve(make_live_app(store)) as server:
        async with open_stream(http, server.http_url, {"query": COUNTER}, accept=APOLLO_ACCEPT) as response:
            assert response.headers["content-type"].startswith("multipart/mixed")
            reader = MultipartReader(response)
            assert await reader.payload() == {"payload": {"data": {"counter": 0}}}

            def change() -> None:
                store.counter = 1

            await update(server, "Query.counter", change=change)
            assert await reader.payload() == {"payload": {"data": {"counter": 1}}}


def test_the_test_reader_waits_for_the_delimiter_after_a_part() -> None:
    parser = MultipartParser("graphql")
    assert parser.feed('\r\n--graphql\r\ncontent-type: application/json\r\n\r\n{"a":') == []
    assert parser.feed("1}") == []  # the JSON looks whole, but only the next delimiter ends the part
    [part] = parser.feed("\r\n--graphql")
    assert (part.headers, part.body) == ({"content-type": "application/json"}, {"a": 1})
    assert parser.feed("--\r\n") == []
    assert parser.closed
    assert parser.epilogue == "\r\n"


async def test_a_mutation_over_get_is_405_and_not_run(guarded: LiveServer, door: Door, http: httpx.AsyncClient) -> None:
    before = len(door.ran)
    query = 'mutation { publish(topic: "multipart-get", text: "over get") }'
    for accept in (MULTIPART, APOLLO_ACCEPT):
        headers = {"accept": accept, "graphql-require-preflight": "1"}  # a GET needs it (CSRF prevention)
        response = await http.get(guarded.http_url, params={"query": query}, headers=headers)
        assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED, (accept, response.text)
        assert response.headers["allow"] == "POST"
    assert door.ran[before:] == []


async def test_an_acknowledged_subscription_joining_a_live_stream_gets_a_well_formed_body(
    guarded: LiveServer, http: httpx.AsyncClient
) -> None:
    """The second subscriber joins a stream that is already live, so its acknowledgement is written at once:
    after the body's opening delimiter, not before it (a malformed body Apollo's parser would reject)."""
    topic = "multipart-acknowledged"
    payload = {"query": WATCH, "variables": {"t": topic}, "extensions": {"acknowledge": True}}
    async with open_stream(http, guarded.http_url, payload, accept=APOLLO_ACCEPT) as first:
        early = MultipartReader(first)
        assert (await early.payload())["payload"]["extensions"]["subscribed"] is True
        async with open_stream(http, guarded.http_url, payload, accept=APOLLO_ACCEPT) as second:
            late = MultipartReader(second)
            assert (await late.payload())["payload"]["extensions"]["subscribed"] is True
            assert second.headers["content-type"].startswith("multipart/mixed")
            await publish(guarded, topic, "both")
            for reader in (early, late):
                assert (await reader.payload())["payload"]["data"] == {"topic": "both"}
