"""Shared fixtures: the chat-like test schema and a live server serving it."""

from collections.abc import Iterator

import pytest

from livegql import LiveGQL, PubSub
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve


@pytest.fixture
def pubsub() -> PubSub:
    return PubSub()


@pytest.fixture
def app(pubsub: PubSub) -> LiveGQL:
    return LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, keepalive_interval=None)


@pytest.fixture
def server(app: LiveGQL) -> Iterator[LiveServer]:
    with serve(app) as live:
        yield live
