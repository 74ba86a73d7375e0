"""Document limits and production mode over a real server: a document over a limit is refused with a request error
(no data, code DOCUMENT_TOO_COMPLEX) over HTTP and WebSocket; production mode hides introspection and suggestions."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from livegql import LiveGQL
from livegql.engine.limit_rules import LIMIT_CODE
from tests.support.server import LiveServer, serve
from tests.support.wsclient import connect

SDL = """
enum Color { RED GREEN }
type Node { name: String child: Node }
type Query { hello: String node: Node paint(color: Color!): String }
"""

DEPTH_3 = "{ node { child { name } } }"
DEPTH_4 = "{ node { child { child { name } } } }"
SUGGESTION = "Did you mean"


def _resolvers() -> dict[str, dict[str, Any]]:
    tree = {"name": "a", "child": {"name": "b", "child": {"name": "c", "child": None}}}
    return {
        "Query": {
            "hello": lambda _parent, _info: "hi",
            "node": lambda _parent, _info: tree,
            "paint": lambda _parent, _info, color: color,
        }
    }


@pytest.fixture
def make_server() -> Iterator[Any]:
    servers: list[Any] = []

    def start(**settings: Any) -> LiveServer:
        context = serve(LiveGQL(SDL, resolvers=_resolvers(), keepalive_interval=None, **settings))
        servers.append(context)
        return context.__enter__()

    yield start
    for context in reversed(servers):
        context.__exit__(None, None, None)


def _post(server: LiveServer, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"query": query, "variables": variables or {}}
    response = httpx.post(server.http_url, json=body, headers={"accept": "application/json"}, timeout=10.0)
    payload: dict[str, Any] = response.json()
    return payload


async def _ws_outcome(server: LiveServer, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The first `next` or `error` message for `query` over graphql-transport-ws."""
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("1", query, variables)
        while True:
            message = await peer.receive()
            if message["type"] in ("next", "error"):
                return message


def test_over_http_a_document_at_the_limits_runs_and_one_over_is_refused(make_server: Any) -> None:
    server = make_server(max_depth=3, max_tokens=12)
    assert _post(server, DEPTH_3) == {"data": {"node": {"child": {"name": "b"}}}}
    for query, setting in (
        (DEPTH_4, "max_depth"),
        ("{ hello hello hello hello hello hello hello hello hello hello hello }", "max_tokens"),
    ):
        refused = _post(server, query)
        assert "data" not in refused
        (error,) = refused["errors"]
        assert error["extensions"] == {"code": LIMIT_CODE, "setting": setting}
        assert f"Settings.{setting}" in error["message"]


async def test_over_websocket_a_document_over_a_limit_is_an_error_message(make_server: Any) -> None:
    server = make_server(max_aliases=1, max_root_fields=2)
    assert (await _ws_outcome(server, "{ a: hello hello }"))["type"] == "next"
    for query, setting in (
        ("{ a: hello b: hello }", "max_aliases"),
        ("{ hello node { name } paint(color: RED) }", "max_root_fields"),
    ):
        message = await _ws_outcome(server, query)
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"] == {"code": LIMIT_CODE, "setting": setting}


def test_introspection_and_suggestions_are_there_by_default(make_server: Any) -> None:
    server = make_server()
    assert _post(server, "{ __schema { queryType { name } } }") == {
        "data": {"__schema": {"queryType": {"name": "Query"}}}
    }
    assert SUGGESTION in _post(server, "{ helo }")["errors"][0]["message"]
    bad_enum = _post(server, "query ($c: Color!) { paint(color: $c) }", {"c": "REDD"})
    assert SUGGESTION in bad_enum["errors"][0]["message"]


async def test_production_hides_introspection_and_suggestions_over_both_transports(make_server: Any) -> None:
    server = make_server(production=True)
    refused = _post(server, "{ __schema { queryType { name } } }")
    assert "data" not in refused
    assert "introspection has been disabled" in refused["errors"][0]["message"]
    assert _post(server, "{ __typename }") == {"data": {"__typename": "Query"}}
    for query, variables in (("{ helo }", None), ("query ($c: Color!) { paint(color: $c) }", {"c": "REDD"})):
        over_http = _post(server, query, variables)["errors"]
        over_ws = (await _ws_outcome(server, query, variables))["payload"]
        for error in (*over_http, *over_ws):
            assert SUGGESTION not in error["message"]
        assert over_http[0]["message"] == over_ws[0]["message"]
