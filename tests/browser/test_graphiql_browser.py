"""GraphiQL in a real browser (issue 7): the page livegql serves at its GraphQL path runs a subscription and shows
each event as it is published, and a `@live` query's new result when its data is invalidated; every request
stays on the server's own origin and the Content-Security-Policy is never violated. A screenshot of each is kept
in $LIVEGQL_ARTIFACTS (the test's tmp_path when unset)."""

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from graphql import GraphQLResolveInfo
from playwright.sync_api import ConsoleMessage, Page, Request, expect

from livegql import LiveGQL
from tests.support.server import LiveServer, serve
from tests.support.waiting import until

SDL = """
type Query { counter: Int! }
type Subscription { topic(name: String!): String! }
"""
RESULT = ".result-window"
EXECUTE = "button.graphiql-execute-button"
SEEN_MS = 5_000


class Counter:
    value = 0


def make_app(counter: Counter) -> LiveGQL:
    async def topic(_: Any, info: GraphQLResolveInfo, name: str) -> AsyncIterator[str]:
        async for text in info.context["pubsub"].subscribe(name):
            yield text

    resolvers: dict[str, dict[str, Callable[..., Any]]] = {
        "Query": {"counter": lambda *_: counter.value},
        "Subscription": {"topic": topic},
    }
    return LiveGQL(SDL, resolvers=resolvers, keepalive_interval=None)


@pytest.fixture(scope="module")
def counter() -> Counter:
    return Counter()


@pytest.fixture(scope="module")
def server(counter: Counter) -> Iterator[LiveServer]:
    with serve(make_app(counter)) as running:
        yield running


class Watch:
    """What a page did that it should not: requests to another origin, CSP violations, uncaught errors."""

    def __init__(self, page: Page, origin: str) -> None:
        self.origin = origin
        self.foreign: list[str] = []
        self.problems: list[str] = []
        self.posts: list[str] = []
        """Each POST's URL, Content-Type and body."""
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(str(error)))

    def _request(self, request: Request) -> None:
        if not request.url.startswith((self.origin, self.origin.replace("http", "ws", 1))):
            self.foreign.append(request.url)
        if request.method == "POST":
            self.posts.append(f"{request.url} {request.headers.get('content-type')} {request.post_data}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(message.text)


def open_graphiql(page: Page, server: LiveServer, query: str) -> Watch:
    """Open GraphiQL with `query` in its editor (the `?query=` parameter), run it, return the page's watch."""
    watch = Watch(page, f"http://127.0.0.1:{server.port}")
    page.goto(f"{server.http_url}?query={quote(query)}")
    page.locator(EXECUTE).click()
    return watch


def publish(server: LiveServer, topic: str, text: str) -> None:
    server.call(server.app.pubsub.publish(topic, text))


def test_graphiql_runs_a_subscription_and_shows_each_event(page: Page, server: LiveServer, artifacts: Path) -> None:
    watch = open_graphiql(page, server, 'subscription { topic(name: "news") }')

    async def subscribed() -> bool:
        return server.app.pubsub.subscriber_count("news") == 1

    # The subscription runs on the server's loop; only there can the test see it has started.
    server.call(until(subscribed, what="GraphiQL's subscription"))
    for text in ("first headline", "second headline"):
        publish(server, "news", text)
        expect(page.locator(RESULT)).to_contain_text(f'"topic": "{text}"', timeout=SEEN_MS)
    page.screenshot(path=artifacts / "graphiql-subscription.png")
    assert watch.foreign == []
    assert watch.problems == []


def test_graphiql_shows_a_live_querys_new_result_when_invalidated(
    page: Page, server: LiveServer, counter: Counter, artifacts: Path
) -> None:
    watch = open_graphiql(page, server, "query @live { counter }")
    expect(page.locator(RESULT)).to_contain_text('"counter": 0', timeout=SEEN_MS)

    async def change() -> None:
        counter.value = 1
        await server.app.invalidate("Query.counter")

    server.call(change())
    expect(page.locator(RESULT)).to_contain_text('"counter": 1', timeout=SEEN_MS)
    page.screenshot(path=artifacts / "graphiql-live-query.png")
    assert watch.foreign == []
    assert watch.problems == []


def test_graphiql_runs_a_query_over_http(page: Page, server: LiveServer) -> None:
    watch = open_graphiql(page, server, "{ counter }")
    expect(page.locator(RESULT)).to_contain_text('"counter"', timeout=SEEN_MS)
    # GraphiQL also POSTs its introspection query (for the docs and completion), maybe not yet finished.
    assert f'{server.http_url} application/json {{"query":"{{ counter }}"}}' in watch.posts
    assert watch.problems == []
