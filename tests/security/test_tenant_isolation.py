"""Tenant isolation with hostile topic names: 0 cross-tenant deliveries, in memory and on a real Redis.

A *tenant* is a topic namespace. On Redis it is a `key_prefix` (`PubSub.from_url("redis://...?key_prefix=...")`):
apps sharing one Redis keep apart by it. In memory a `PubSub` has no prefix and is its own namespace, so a tenant
is a `PubSub` instance. Within a tenant every topic is a namespace too. The property: a subscriber of topic T of
tenant A receives exactly the events published to T through A (live, and replayed on resume), and nothing else:
whatever glob metacharacters (`*?[]^-\\`), separators (`:./{}#>+`, space, newline, NUL) and unicode the names
hold, however long, and whether names are glob matches of one another (`a*` / `ab`) or one tenant's prefix
extends another's (`acme:` / `acme:events:`). The reserved invalidation topic is one more topic of each tenant.
"""

import asyncio
import contextlib
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings

from livegql import LiveGQL, PubSub
from livegql.broker import INVALIDATION_TOPIC, REVOCATION_TOPIC
from livegql.broker.redis_topics import channel_name, dedupe_key, stream_key
from tests.security.tenant_run import DELIVERY_WAIT, Tally, memory_tenants, redis_tenants, run
from tests.security.tenant_topics import FIXED, HOSTILE, KINDS, Universe, topic_names, universes
from tests.support.redis import delete_keys, redis_url_or_skip, unique_prefix
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve
from tests.support.wsclient import RawPeer, connect

SETTINGS = settings(
    derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=False
)


def _report(kind: str, tally: Tally) -> None:
    print(
        f"\n{kind}: {tally.examples} examples, {tally.readers} readers checked, {tally.deliveries} deliveries, "
        f"{len(tally.cross)} cross deliveries"
    )
    _check(tally)


def _check(tally: Tally) -> None:
    """Fail if anything reached the wrong reader, or a reader missed one of its own events."""
    assert tally.cross == [], "\n".join(tally.cross[:20])
    assert tally.wrong == [], "\n".join(tally.wrong[:20])


def test_memory_tenants_and_topics_never_cross() -> None:
    tally = Tally()

    @settings(SETTINGS, max_examples=200)
    @example(FIXED)
    @given(universes())
    def isolated(universe: Universe) -> None:
        one = Tally()

        async def scenario() -> None:
            async with memory_tenants(universe) as tenants:
                await run(tenants, universe, one)

        asyncio.run(scenario())
        _check(one)  # this example alone: hypothesis then shrinks a failure to a small one
        tally.add(one)

    isolated()
    _report("memory", tally)


def test_redis_tenants_and_topics_never_cross() -> None:
    url, tally = redis_url_or_skip(), Tally()

    @settings(SETTINGS, max_examples=80)
    @example(FIXED)
    @given(universes())
    def isolated(universe: Universe) -> None:
        one = Tally()

        async def scenario() -> None:
            async with redis_tenants(url, universe) as tenants:
                await run(tenants, universe, one)

        asyncio.run(scenario())
        _check(one)  # this example alone: hypothesis then shrinks a failure to a small one
        tally.add(one)

    isolated()
    _report("redis", tally)


@settings(SETTINGS, max_examples=300)
@given(topic_names, topic_names, topic_names, topic_names)
def test_redis_names_are_distinct_for_distinct_prefix_and_topic(p: str, t: str, q: str, u: str) -> None:
    """Key and channel names never coincide for two (prefix, topic) pairs: also when the second pair is the
    first with a piece moved between prefix and topic across a kind word (`a:` + `events:x` / `a:events:` + `x`)."""
    pairs = {(p, t), (q, u), *((p + kind + t, u) for kind in KINDS), *((p, t + kind + u) for kind in KINDS)}
    for kind_of in (stream_key, channel_name):
        names = {kind_of(prefix, topic) for prefix, topic in pairs}
        assert len(names) == len(pairs)
    dedupes = {dedupe_key(p, t, u), dedupe_key(p, f"{t}:{u}", q), dedupe_key(p, t, f"{u}:{q}"), dedupe_key(q, t, u)}
    assert len(dedupes) == len({(p, t, u), (p, f"{t}:{u}", q), (p, t, f"{u}:{q}"), (q, t, u)})
    assert not {stream_key(p, t), stream_key(q, u)} & dedupes


@pytest.mark.parametrize("topic", [INVALIDATION_TOPIC, REVOCATION_TOPIC])
async def test_the_reserved_topics_are_refused(topic: str) -> None:
    """Through `PubSub` nobody can read or forge live-query invalidations or revocations: a client that may
    name topics would otherwise learn what others read, or revoke other users."""
    pubsub = PubSub()
    with pytest.raises(ValueError, match="reserved"):
        await pubsub.publish(topic, 5)
    with pytest.raises(ValueError, match="reserved"):
        pubsub.subscribe(topic)
    assert pubsub.subscriber_count() == 0
    await pubsub.close()


# End to end: two apps on one Redis, each behind its own real server, with nested prefixes.

E2E_TOPICS = ("a*", "ab", "a?", "[ab]", "a", "events:x", "x", "stream:x", "", "\x00", "a\nb", "\u2603:{}#1", HOSTILE)
SUBSCRIPTION = "subscription ($name: String!) { topic(name: $name) }"
PUBLISH = "mutation ($topic: String!, $text: String!) { publish(topic: $topic, text: $text) }"


@pytest.fixture
def servers() -> Iterator[list[LiveServer]]:
    """Tenant 0 with key prefix P, tenant 1 with P + "events:": each a LiveGQL app on its own socket."""
    url, base = redis_url_or_skip(), unique_prefix()
    with serve(_app(url, base)) as first, serve(_app(url, base + "events:")) as second:
        yield [first, second]
    delete_keys(url, base)


def _app(url: str, prefix: str) -> LiveGQL:
    pubsub = PubSub.from_url(f"{url}{'&' if '?' in url else '?'}{urlencode({'key_prefix': prefix})}")
    return LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, keepalive_interval=None)


async def _subscribe_all(peer: RawPeer) -> None:
    for index, topic in enumerate(E2E_TOPICS):
        extensions = {"acknowledge": True}
        payload = {"query": SUBSCRIPTION, "variables": {"name": topic}, "extensions": extensions}
        await peer.send({"id": str(index), "type": "subscribe", "payload": payload})
    acknowledged: set[str] = set()
    while len(acknowledged) < len(E2E_TOPICS):
        message = await peer.receive_type("next")
        assert message["payload"]["extensions"]["subscribed"] is True
        acknowledged.add(message["id"])


async def _collect(peer: RawPeer, tenant: int) -> tuple[dict[str, list[str]], set[str]]:
    """Every `next` until each subscription has seen its sentinel (`<tenant>|<topic>|end`), or none came for
    DELIVERY_WAIT seconds; returns the texts before the sentinels and which subscriptions saw theirs."""
    received: dict[str, list[str]] = {str(index): [] for index in range(len(E2E_TOPICS))}
    ended: set[str] = set()
    with contextlib.suppress(TimeoutError):
        while len(ended) < len(E2E_TOPICS):
            message = await peer.receive_type("next", limit=DELIVERY_WAIT)
            text = message["payload"]["data"]["topic"]
            if text == f"{tenant}|{message['id']}|end":
                ended.add(message["id"])
            else:
                received[message["id"]].append(text)
    return received, ended


async def test_end_to_end_two_apps_sharing_redis_never_cross(servers: list[LiveServer]) -> None:
    async with connect(servers[0].ws_url) as zero, connect(servers[1].ws_url) as one:
        peers = [zero, one]
        for peer in peers:
            await peer.init()
            await _subscribe_all(peer)
        async with httpx.AsyncClient(timeout=10) as http:
            for label in ("0", "1", "end"):
                for tenant, server in enumerate(servers):
                    for index, topic in enumerate(E2E_TOPICS):
                        variables = {"topic": topic, "text": f"{tenant}|{index}|{label}"}
                        reply = await http.post(server.http_url, json={"query": PUBLISH, "variables": variables})
                        assert reply.json() == {"data": {"publish": True}}
        tally = Tally(examples=1)
        for tenant, peer in enumerate(peers):
            received, ended = await _collect(peer, tenant)
            for key, texts in received.items():
                expected = [f"{tenant}|{key}|0", f"{tenant}|{key}|1"]
                tally.check((tenant, int(key)), texts, key in ended, expected, E2E_TOPICS[int(key)])
    _report("end to end", tally)
