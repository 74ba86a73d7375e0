"""Shared pieces of the observability tests: a small schema (a feed, a counter for live queries, a publishing
mutation), and a scrape of `/metrics` parsed into samples."""

from collections.abc import Mapping
from typing import Any

import httpx
from graphql import GraphQLResolveInfo
from prometheus_client.parser import text_string_to_metric_families

from livegql import LiveGQL, PubSub
from tests.support.server import LiveServer

SDL = """
type Query { hello: String!, n: Int! }
type Mutation { publish(topic: String!, text: String!): Boolean! }
type Subscription { feed(topic: String!): String! }
"""
FEED = "subscription Feed($topic: String!) { feed(topic: $topic) }"
LIVE_N = "query @live { n }"
LIMIT = 5.0

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def make_app(store: dict[str, int] | None = None, **options: Any) -> LiveGQL:
    """The app; `store["n"]` is what `n` answers (tests change it, then invalidate `Query.n`)."""
    values = store if store is not None else {"n": 1}

    async def feed(_: Any, info: GraphQLResolveInfo, topic: str) -> Any:
        async for text in info.context["pubsub"].subscribe(topic):
            yield text

    async def publish(_: Any, info: GraphQLResolveInfo, topic: str, text: str) -> bool:
        await info.context["pubsub"].publish(topic, text)
        return True

    resolvers: dict[str, dict[str, Any]] = {
        "Query": {"hello": lambda *_: "hello", "n": lambda *_: values["n"]},
        "Mutation": {"publish": publish},
        "Subscription": {"feed": feed},
    }
    options.setdefault("keepalive_interval", None)
    options.setdefault("pubsub", PubSub())
    return LiveGQL(SDL, resolvers=resolvers, **options)


async def scrape(server: LiveServer, path: str = "/metrics") -> tuple[Samples, dict[str, str]]:
    """Every sample by (name, labels), and every family's TYPE by name (as the parser names it)."""
    async with httpx.AsyncClient(timeout=LIMIT) as http:
        response = await http.get(f"http://127.0.0.1:{server.port}{path}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(response.text):
        types[family.name] = family.type
        assert family.documentation, f"{family.name} has no HELP"
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, types


def value(samples: Samples, name: str, labels: Mapping[str, str] | None = None) -> float:
    return samples[(name, frozenset((labels or {}).items()))]


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    """`{label value: sample value}` for every sample of `name` (labelled only by `label`)."""
    out = {}
    for (sample, labels), number in samples.items():
        if sample == name:
            (key, label_value), *rest = sorted(labels)
            assert key == label, labels
            assert not rest, labels
            out[label_value] = number
    return out
