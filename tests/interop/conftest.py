"""Interop fixtures: a server whose `on_connect` admits one token (in the connection params, or as a bearer
Authorization header for the HTTP transports, which have no params) and records every call it saw."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.requests import HTTPConnection

from livegql import ConnectionRejectedError, LiveGQL, PubSub
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve

ADMIT_TOKEN = "let-me-in"
ADMIT_AUTHORIZATION = f"Bearer {ADMIT_TOKEN}"
REJECT_REASON = "bad token"


@dataclass(frozen=True, slots=True)
class Visit:
    """One call of the hook: the ASGI scope type ("websocket" or "http"), the request's method (None for a
    WebSocket), the params and the request's Authorization header."""

    scope_type: str
    method: str | None
    params: dict[str, Any]
    authorization: str | None


@dataclass
class Door:
    """The `on_connect` hook: admits `params["token"] == ADMIT_TOKEN` or `authorization: Bearer ADMIT_TOKEN`,
    puts `user` into the context, rejects anything else.

    `seen` lists the params of every call; `visits` what each call saw of the request too.
    """

    seen: list[dict[str, Any]] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], request: HTTPConnection) -> Mapping[str, Any]:
        # Runs on the server's thread; list.append is atomic and the client reads after the ack/close.
        authorization = request.headers.get("authorization")
        method: str | None = request.scope.get("method")
        self.seen.append(params)
        self.visits.append(Visit(request.scope["type"], method, params, authorization))
        if params.get("token") != ADMIT_TOKEN and authorization != ADMIT_AUTHORIZATION:
            raise ConnectionRejectedError(REJECT_REASON)
        return {"user": params.get("user")}


@pytest.fixture
def door() -> Door:
    return Door()


@pytest.fixture
def guarded_server(pubsub: PubSub, door: Door) -> Iterator[LiveServer]:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, on_connect=door, keepalive_interval=None)
    with serve(app) as live:
        yield live
