"""What is refused, over a real server: @defer and @stream on graphql-core 3.2 (with the reason, not merely "unknown
directive"), @live combined with either on every version, and incremental delivery of a subscription on 3.3."""

from http import HTTPStatus
from typing import Any

import httpx
import pytest

from livegql.engine.incremental_rules import LIVE_CONFLICT_CODE, UNAVAILABLE_CODE
from tests.support.server import LiveServer
from tests.support.wsclient import connect

DEFER = '{ hello ... @defer { held(key: "never") } }'
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def ws_errors(server: LiveServer, query: str) -> list[dict[str, Any]]:
    """The `error` message's errors for `query` over graphql-transport-ws (after which the socket goes on)."""
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("1", query)
        message = await peer.receive_type("error")
        assert message["id"] == "1"
        await peer.subscribe("2", "{ hello }")
        assert (await peer.receive_type("next"))["payload"] == {"data": {"hello": "world"}}
        errors: list[dict[str, Any]] = message["payload"]
        return errors


@pytest.mark.gql32
async def test_defer_over_websocket_is_an_error_naming_what_it_needs(served: LiveServer) -> None:
    [error] = await ws_errors(served, DEFER)
    assert error["extensions"] == {"code": UNAVAILABLE_CODE}
    assert "graphql-core >= 3.3" in error["message"]
    assert "Unknown directive" not in error["message"]


@pytest.mark.gql32
async def test_stream_over_http_is_a_request_error_naming_what_it_needs(served: LiveServer) -> None:
    async with httpx.AsyncClient(timeout=10.0) as http:
        body = {"query": "{ letters @stream(initialCount: 1) }"}
        response = await http.post(served.http_url, json=body, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": UNAVAILABLE_CODE}
    assert "data" not in response.json()


async def test_a_live_query_cannot_defer(served: LiveServer) -> None:
    errors = await ws_errors(served, 'query @live { hello ... @defer { held(key: "never") } }')
    conflict = [error for error in errors if error["extensions"]["code"] == LIVE_CONFLICT_CODE]
    assert [error["message"] for error in conflict] == [
        "@live cannot be combined with @defer: a live query's results are sent whole."
    ]


@pytest.mark.gql33
async def test_a_subscription_cannot_defer(served: LiveServer) -> None:
    errors = await ws_errors(served, "subscription { ... @defer { ticks } }")  # graphql-core's own rules
    assert "Defer directive not supported on subscription operations" in " ".join(e["message"] for e in errors)
