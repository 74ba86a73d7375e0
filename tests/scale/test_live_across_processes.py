"""Live-query invalidations travel through Redis: a change announced by one app (as another process would)
refreshes a live query watched through a different app sharing that Redis."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLResolveInfo

from livegql import LiveGQL, PubSub
from tests.support.redis import redis_url_or_skip
from tests.support.server import LiveServer, serve
from tests.support.wsclient import connect

SDL = "type Query { counter: Int! }"


@dataclass
class TwoApps:
    watched: LiveServer  # where the live query is watched
    writer: LiveServer  # where the change is announced
    store: dict[str, int]  # the database both read


@pytest.fixture
def two_apps() -> Iterator[TwoApps]:
    url = f"{redis_url_or_skip()}?key_prefix=livegql-live-{uuid.uuid4().hex}:"
    store = {"counter": 0}

    def counter(_: Any, __: GraphQLResolveInfo) -> int:
        return store["counter"]

    def app() -> LiveGQL:  # each with its own broker connection, as separate processes have
        return LiveGQL(
            SDL, resolvers={"Query": {"counter": counter}}, pubsub=PubSub.from_url(url), keepalive_interval=None
        )

    with serve(app()) as watched, serve(app()) as writer:
        yield TwoApps(watched, writer, store)


async def test_an_invalidation_on_one_app_refreshes_a_live_query_on_another(two_apps: TwoApps) -> None:
    async with connect(two_apps.watched.ws_url) as peer:
        await peer.init()
        await peer.subscribe("live", "query @live { counter }")
        assert (await peer.receive_type("next"))["payload"]["data"] == {"counter": 0}
        two_apps.store["counter"] = 7
        await two_apps.writer.acall(two_apps.writer.app.invalidate("Query.counter"))
        refreshed = await peer.receive_type("next", limit=10)
        assert refreshed["payload"]["data"] == {"counter": 7}
