"""Shared fixtures: the chat-like test schema and a live server serving it."""

from collections.abc import Iterator

import pytest

from livegql import LiveGQL, PubSub
from tests.incremental.versions import check_graphql_version
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


def pytest_runtest_setup(item: pytest.Item) -> None:
    # `gql33` / `gql32` tests run in the venv with that graphql-core (scripts/check runs both).
    check_graphql_version(item)
