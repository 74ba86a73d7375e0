"""Positions, acknowledgements and resume over graphql-transport-ws, end to end on the in-memory broker.

The same wire behaviour holds on Redis (tests/scale/); here each rule is checked on its own.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from livegql import LiveGQL, PubSub
from livegql.broker.retention import Retention
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve
from tests.support.wsclient import RawPeer, connect

WATCH = "subscription($t: String!) { topic(name: $t) }"


async def subscribe(peer: RawPeer, id: str, topic: str, **extensions: Any) -> None:
    payload: dict[str, Any] = {"query": WATCH, "variables": {"t": topic}}
    if extensions:
        payload["extensions"] = extensions
    await peer.send({"id": id, "type": "subscribe", "payload": payload})


async def acknowledged(peer: RawPeer, id: str) -> str:
    """Wait for the acknowledgement of `id`; returns its position."""
    message = await peer.receive_type("next")
    assert message["id"] == id
    payload = message["payload"]
    assert "data" not in payload, f"expected the acknowledgement first, got {payload}"
    assert payload["extensions"]["subscribed"] is True
    position: str = payload["extensions"]["position"]
    return position


async def events(peer: RawPeer, id: str, count: int) -> list[tuple[str, str]]:
    """The next `count` events of `id` as (text, position)."""
    received = []
    for _ in range(count):
        message = await peer.receive_type("next")
        assert message["id"] == id
        payload = message["payload"]
        received.append((payload["data"]["topic"], payload["extensions"]["position"]))
    return received


def order(position: str) -> tuple[int, int]:
    epoch, seq = position.split("-")
    return int(epoch), int(seq)


async def publish(server: LiveServer, topic: str, *texts: str) -> list[str]:
    positions = []
    for text in texts:
        positions.append(await server.acall(server.app.pubsub.publish(topic, text)))
    return positions


async def test_each_event_carries_its_position_and_they_increase(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "s", "news", acknowledge=True)
        start = await acknowledged(peer, "s")
        published = await publish(server, "news", "a", "b", "c")
        received = await events(peer, "s", 3)
    assert [text for text, _ in received] == ["a", "b", "c"]
    assert [position for _, position in received] == published
    assert order(start) < order(published[0]) < order(published[1]) < order(published[2])


async def test_a_client_that_does_not_ask_gets_no_acknowledgement(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "s", "news")
        # Published until the subscription is live: the first frame the client sees is an event, not an ack.
        message = None
        for attempt in range(50):
            await publish(server, "news", f"x{attempt}")
            try:
                message = await peer.receive_type("next", limit=0.2)
                break
            except TimeoutError:
                continue
        assert message is not None
        assert message["payload"]["data"]["topic"].startswith("x")


async def test_after_the_acknowledgement_no_event_is_missed(server: LiveServer) -> None:
    async with connect(server.ws_url) as first, connect(server.ws_url) as late:
        await first.init()
        await late.init()
        await subscribe(first, "s", "race", acknowledge=True)
        await acknowledged(first, "s")
        # `late` joins the now-live shared stream: acknowledged at once, then sees the very next event.
        await subscribe(late, "s", "race", acknowledge=True)
        position = await acknowledged(late, "s")
        published = await publish(server, "race", "first-after-ack")
        assert await events(late, "s", 1) == [("first-after-ack", published[0])]
        assert order(position) < order(published[0])


async def test_resume_replays_exactly_the_missed_events_then_goes_live(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "s", "feed", acknowledge=True)
        await acknowledged(peer, "s")
        await publish(server, "feed", "1", "2")
        seen = await events(peer, "s", 2)
    await publish(server, "feed", "3", "4", "5")  # while the client is away
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "r", "feed", acknowledge=True, resumeAfter=seen[-1][1])
        assert await acknowledged(peer, "r") == seen[-1][1]
        replayed = await events(peer, "r", 3)
        assert [text for text, _ in replayed] == ["3", "4", "5"]
        live = await publish(server, "feed", "6")
        assert await events(peer, "r", 1) == [("6", live[0])]


async def test_resume_from_the_acknowledged_position_before_any_event(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "s", "quiet", acknowledge=True)
        start = await acknowledged(peer, "s")
    await publish(server, "quiet", "missed")
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "r", "quiet", resumeAfter=start)
        assert [text for text, _ in await events(peer, "r", 1)] == ["missed"]


async def test_two_resumers_from_one_position_each_get_the_whole_replay(server: LiveServer) -> None:
    start = (await publish(server, "shared", "0"))[0]
    await publish(server, "shared", "1", "2")
    async with connect(server.ws_url) as first, connect(server.ws_url) as second:
        await first.init()
        await second.init()
        await subscribe(first, "a", "shared", resumeAfter=start)
        assert [text for text, _ in await events(first, "a", 2)] == ["1", "2"]
        await subscribe(second, "b", "shared", resumeAfter=start)
        assert [text for text, _ in await events(second, "b", 2)] == ["1", "2"]


@pytest.fixture
def short_history() -> Iterator[LiveServer]:
    pubsub = PubSub(retention=Retention(count=3))
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, keepalive_interval=None)
    with serve(app) as live:
        yield live


async def test_a_position_older_than_the_retention_gets_history_gone_and_no_partial_replay(
    short_history: LiveServer,
) -> None:
    positions = await publish(short_history, "busy", *[str(n) for n in range(10)])
    async with connect(short_history.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "r", "busy", acknowledge=True, resumeAfter=positions[2])
        message = await peer.receive()
        assert message["type"] == "error", f"expected history gone before anything else, got {message}"
        assert message["id"] == "r"
        (error,) = message["payload"]
        assert error["extensions"]["code"] == "HISTORY_GONE"
        # Within the retention the same topic still resumes.
        await subscribe(peer, "ok", "busy", resumeAfter=positions[7])
        assert [text for text, _ in await events(peer, "ok", 2)] == ["8", "9"]


@pytest.mark.parametrize(
    ("position", "code"),
    [("not-a-position", "INVALID_POSITION"), (12, "BAD_REQUEST"), ("1-99999999", "HISTORY_GONE")],
)
async def test_a_bad_resume_position_is_refused_with_a_clear_code(
    server: LiveServer, position: object, code: str
) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "r", "t", resumeAfter=position)
        message = await peer.receive()
        assert (message["type"], message["id"]) == ("error", "r")
        assert message["payload"][0]["extensions"]["code"] == code
        # The socket stays usable.
        await subscribe(peer, "fine", "t", acknowledge=True)
        await acknowledged(peer, "fine")


async def test_a_source_that_reads_no_topic_is_acknowledged_before_its_first_event_without_positions(
    server: LiveServer,
) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        payload = {"query": "subscription { count(to: 2) }", "extensions": {"acknowledge": True}}
        await peer.send({"id": "c", "type": "subscribe", "payload": payload})
        ack = await peer.receive_type("next")
        assert ack["payload"] == {"extensions": {"subscribed": True, "position": None}}
        for value in (1, 2):
            assert (await peer.receive_type("next"))["payload"] == {"data": {"count": value}}
        assert await peer.receive_type("complete") == {"id": "c", "type": "complete"}
