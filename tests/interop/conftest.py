"""Interop fixtures: a server whose `on_connect` admits one token and records every payload it saw."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.requests import HTTPConnection

from livegql import ConnectionRejectedError, LiveGQL, PubSub
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve

ADMIT_TOKEN = "let-me-in"
REJECT_REASON = "bad token"


@dataclass
class Door:
    """The `on_connect` hook: admits `ADMIT_TOKEN`, puts `user` into the context, rejects anything else."""

    seen: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], request: HTTPConnection) -> Mapping[str, Any]:
        # Runs on the server's thread; list.append is atomic and the client reads after the ack/close.
        self.seen.append(params)
        if params.get("token") != ADMIT_TOKEN:
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
