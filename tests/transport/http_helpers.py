"""Helpers for the GraphQL-over-HTTP tests: requests with explicit headers, and response checks."""

from contextlib import AbstractContextManager
from http import HTTPStatus
from typing import Any

import httpx

from livegql import LiveGQL
from livegql.core import json
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve

GR = "application/graphql-response+json"
JSON = "application/json"
SECRET = "secret database password leaked"
PUBLISH = 'mutation { publish(topic: "t", text: "hi") }'
ADD = "query Add($a: Int!, $b: Int!) { add(a: $a, b: $b) }"
TWO_OPERATIONS = 'query A { hello } query B { add(a: 1, b: 2) } mutation M { publish(topic: "t", text: "x") }'


def start(**settings: Any) -> AbstractContextManager[LiveServer]:
    """A server for an app built from the test schema with these LiveGQL arguments."""
    settings.setdefault("resolvers", make_resolvers())
    return serve(LiveGQL(SDL, keepalive_interval=None, **settings))


def post(
    client: httpx.Client,
    server: LiveServer,
    payload: object,
    *,
    accept: str | None = None,
    content_type: str | None = JSON,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = dict(headers or {})
    if accept is not None:
        sent["accept"] = accept
    if content_type is not None:
        sent["content-type"] = content_type
    content = payload if isinstance(payload, bytes) else json.dumps_bytes(payload)
    return client.post(server.http_url, content=content, headers=sent)


PREFLIGHT = {"graphql-require-preflight": "1"}
"""A header a cross-site page cannot send without a CORS preflight: GETs need one (CSRF prevention)."""


def get(
    client: httpx.Client, server: LiveServer, params: dict[str, str], *, accept: str | None = None
) -> httpx.Response:
    headers = dict(PREFLIGHT)
    if accept is not None:
        headers["accept"] = accept
    return client.get(server.http_url, params=params, headers=headers)


def media_of(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


def assert_error_response(response: httpx.Response, status: HTTPStatus, media: str = JSON) -> str:
    """A GraphQL response that never executed: `errors` only, each with a message; returns the first."""
    assert response.status_code == status, response.text
    assert media_of(response) == media
    assert "charset=utf-8" in response.headers["content-type"]
    payload = response.json()
    assert set(payload) == {"errors"}
    assert payload["errors"]
    assert all(isinstance(error["message"], str) and error["message"] for error in payload["errors"])
    message: str = payload["errors"][0]["message"]
    return message
