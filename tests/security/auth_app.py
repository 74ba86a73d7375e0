"""A test app whose `on_connect` admits bearer tokens for a limited time, as named users it can revoke."""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.requests import HTTPConnection

from livegql import Admission, LiveGQL, PubSub
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve


@dataclass
class Tokens:
    """token -> (user, seconds from admission until it expires, or None for never)."""

    lifetimes: dict[str, tuple[str, float | None]] = field(default_factory=dict)
    admitted: list[str] = field(default_factory=list)

    def on_connect(self, params: dict[str, Any], request: HTTPConnection) -> Admission | bool:
        token = params.get("token") or request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.lifetimes:
            return False
        self.admitted.append(token)
        user, lifetime = self.lifetimes[token]
        expires_at = None if lifetime is None else time.time() + lifetime
        return Admission(context={"user": user}, expires_at=expires_at, principals=(f"user:{user}", f"token:{token}"))


@dataclass
class AuthServer:
    server: LiveServer
    tokens: Tokens

    @property
    def app(self) -> LiveGQL:
        return self.server.app


@pytest.fixture
def auth_server() -> Iterator[AuthServer]:
    tokens = Tokens()
    app = LiveGQL(
        SDL, resolvers=make_resolvers(), pubsub=PubSub(), on_connect=tokens.on_connect, keepalive_interval=None
    )
    with serve(app) as server:
        yield AuthServer(server, tokens)
