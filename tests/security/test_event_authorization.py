"""The per-event authorization hook over a real server: a subscriber sees only the events the app lets it see,
even when everyone shares one execution (`share="public"`), and the hook runs once per event for each
distinct identity, not once per connection."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from graphql import ExecutionResult
from starlette.requests import HTTPConnection

from livegql import LiveGQL, PubSub
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve, subscribers
from tests.support.waiting import until
from tests.support.wsclient import RawPeer, connect

NEWS = 'subscription { topic(name: "news") }'


class Audience:
    """Events are "to:<user>" (only that user may see them) or anything else (everyone may)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.failing = False

    def authorize(self, context: dict[str, Any], result: ExecutionResult) -> bool:
        text = (result.data or {})["topic"]
        self.calls.append((context["user"], text))
        if self.failing:
            raise RuntimeError("the permission service is down")
        return not text.startswith("to:") or text == f"to:{context['user']}"


def on_connect(params: dict[str, Any], _: HTTPConnection) -> dict[str, Any]:
    return {"user": params["user"]}


@pytest.fixture
def audience() -> Audience:
    return Audience()


@pytest.fixture
def server(audience: Audience) -> Iterator[LiveServer]:
    authorize: Callable[[dict[str, Any], ExecutionResult], bool] = audience.authorize
    app = LiveGQL(
        SDL,
        resolvers=make_resolvers(),
        pubsub=PubSub(),
        on_connect=on_connect,
        share="public",
        authorize_event=authorize,
        keepalive_interval=None,
    )
    with serve(app) as live:
        yield live


async def _subscribe_all(server: LiveServer, peers: dict[str, RawPeer]) -> None:
    for peer in peers.values():
        await peer.subscribe("1", NEWS)

    async def one_shared_stream() -> bool:
        hub = server.app.subscriptions

        async def members() -> int:
            return sum(len(stream.members) for stream in hub._streams.values())

        return await subscribers(server, "news") == 1 and await server.acall(members()) == len(peers)

    await until(one_shared_stream, what="every subscriber in the one shared stream")


async def _publish(server: LiveServer, *texts: str) -> None:
    for text in texts:
        await server.acall(server.app.pubsub.publish("news", text))


async def _next_topic(peer: RawPeer) -> str:
    message = await peer.receive_type("next")
    return str(message["payload"]["data"]["topic"])


async def test_each_subscriber_sees_only_what_the_hook_allows(server: LiveServer, audience: Audience) -> None:
    url = server.ws_url
    async with connect(url) as alice, connect(url) as alice_phone, connect(url) as bob:
        peers = {"alice": alice, "alice_phone": alice_phone, "bob": bob}
        for name, peer in peers.items():
            await peer.init({"user": name.split("_")[0]})
        await _subscribe_all(server, peers)
        await _publish(server, "to:alice", "to:bob", "everyone")
        for peer in (alice, alice_phone):
            assert [await _next_topic(peer) for _ in range(2)] == ["to:alice", "everyone"]
        assert [await _next_topic(bob) for _ in range(2)] == ["to:bob", "everyone"]
    # One call per event for each identity: alice's two connections are asked about once.
    assert sorted(audience.calls) == sorted(
        [(user, text) for text in ("to:alice", "to:bob", "everyone") for user in ("alice", "bob")]
    )
    assert server.app.subscriptions.gate is not None
    assert server.app.subscriptions.gate.withheld == 3  # to:bob twice (alice's two), to:alice once (bob)


async def test_a_failing_hook_withholds_the_event(server: LiveServer, audience: Audience) -> None:
    async with connect(server.ws_url) as alice:
        await alice.init({"user": "alice"})
        await _subscribe_all(server, {"alice": alice})
        audience.failing = True
        await _publish(server, "everyone")

        async def asked() -> bool:
            return len(audience.calls) == 1

        await until(asked, what="the hook to be asked")
        audience.failing = False
        await _publish(server, "after the outage")
        assert await _next_topic(alice) == "after the outage"
