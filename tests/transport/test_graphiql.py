"""GraphiQL at the GraphQL path (issue 7): the page a browser's navigation gets, its bundled assets, the setting
that turns it off, and everything else answered as before."""

import re
from collections.abc import Iterator
from http import HTTPStatus
from importlib import resources

import httpx
import pytest

from livegql import LiveGQL
from livegql.transport.graphiql import CSP, IMMUTABLE
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve
from tests.transport.http_helpers import GR, JSON, PREFLIGHT, PUBLISH, get, media_of, post, start

# What Chromium sends for a navigation (a typed URL, a link).
NAVIGATION = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
ASSETS = ("graphiql.js", "graphiql.css")
BUNDLE = resources.files("livegql.transport").joinpath("static", "graphiql")
ATTRIBUTE_URL = re.compile(r'(?:src|href)="([^"]*)"')


@pytest.fixture(scope="module")
def off() -> Iterator[LiveServer]:
    with start(graphiql=False) as server:
        yield server


def navigate(client: httpx.Client, url: str, params: dict[str, str] | None = None) -> httpx.Response:
    return client.get(url, params=params, headers={"accept": NAVIGATION})


def page_urls(page: str) -> list[str]:
    return [url.replace("&amp;", "&") for url in ATTRIBUTE_URL.findall(page)]


def test_a_browser_navigation_gets_the_graphiql_page(client: httpx.Client, live: LiveServer) -> None:
    response = navigate(client, live.http_url)
    assert response.status_code == HTTPStatus.OK
    assert media_of(response) == "text/html"
    host = f"127.0.0.1:{live.port}"
    assert response.headers["content-security-policy"] == CSP.format(ws=f" ws://{host} wss://{host}")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert 'data-endpoint="/graphql"' in response.text
    assert "<script>" not in response.text  # nothing inline: the policy allows scripts from 'self' only


def test_a_host_header_cannot_widen_the_policy(client: httpx.Client, live: LiveServer) -> None:
    response = client.get(live.http_url, headers={"accept": NAVIGATION, "host": "x; script-src *"})
    assert response.headers["content-security-policy"] == CSP.format(ws="")


def test_the_page_references_only_same_origin_assets(client: httpx.Client, live: LiveServer) -> None:
    urls = page_urls(navigate(client, live.http_url).text)
    assets = [url for url in urls if not url.startswith("data:")]  # data:, the empty favicon, fetches nothing
    # A path on this origin (not `//host`), each asset named with its content's hash.
    assert sorted(url.split("&v=")[0] for url in assets) == [f"/graphql?graphiql={name}" for name in sorted(ASSETS)]
    assert all(re.fullmatch(r"[0-9a-f]{16}", url.split("&v=")[1]) for url in assets)


@pytest.mark.parametrize(("name", "media"), [("graphiql.js", "text/javascript"), ("graphiql.css", "text/css")])
def test_assets_come_from_the_package_and_are_cached_for_good(
    client: httpx.Client, live: LiveServer, name: str, media: str
) -> None:
    urls = page_urls(navigate(client, live.http_url).text)
    (url,) = [url for url in urls if f"graphiql={name}&" in url]
    # Fetched as a browser fetches a script or a stylesheet: no preflight header, no JSON in Accept.
    response = client.get(f"http://127.0.0.1:{live.port}{url}", headers={"accept": "*/*"})
    assert response.status_code == HTTPStatus.OK
    assert media_of(response) == media
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.content == BUNDLE.joinpath(name).read_bytes()


def test_an_asset_without_its_version_is_revalidated(client: httpx.Client, live: LiveServer) -> None:
    response = client.get(live.http_url, params={"graphiql": "graphiql.js", "v": "old"})
    assert response.status_code == HTTPStatus.OK
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("name", ["../graphiql.py", "index.html", "", "graphiql.js/"])
def test_only_the_bundled_files_are_served(client: httpx.Client, live: LiveServer, name: str) -> None:
    response = client.get(live.http_url, params={"graphiql": name})
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_query_in_the_url_prefills_graphiql_and_never_runs(client: httpx.Client, live: LiveServer) -> None:
    # A link must not run a mutation for whoever follows it: the page reads `?query=` into its editor.
    response = navigate(client, live.http_url, {"query": PUBLISH})
    assert response.status_code == HTTPStatus.OK
    assert media_of(response) == "text/html"
    assert "publish" not in response.text


def test_graphql_clients_are_answered_as_before(client: httpx.Client, live: LiveServer) -> None:
    assert get(client, live, {"query": "{ hello }"}, accept=GR).json() == {"data": {"hello": "Hello, world!"}}
    assert get(client, live, {"query": "{ hello }"}, accept="*/*").json() == {"data": {"hello": "Hello, world!"}}
    # JSON ranked above HTML: a GraphQL client that also takes HTML
    listed = get(client, live, {"query": "{ hello }"}, accept=f"{JSON}, text/html")
    assert media_of(listed) == JSON
    # POST is never GraphiQL: a POST that only takes HTML is still 406
    refused = post(client, live, {"query": "{ hello }"}, accept="text/html")
    assert refused.status_code == HTTPStatus.NOT_ACCEPTABLE


def test_turned_off_a_browser_gets_what_it_got_before(client: httpx.Client, off: LiveServer) -> None:
    # A navigation sends no preflight header: CSRF prevention refuses it (400), in JSON.
    refused = navigate(client, off.http_url)
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert media_of(refused) == JSON
    only_html = client.get(off.http_url, params={"query": "{ hello }"}, headers={"accept": "text/html", **PREFLIGHT})
    assert only_html.status_code == HTTPStatus.NOT_ACCEPTABLE
    asset = client.get(off.http_url, params={"graphiql": "graphiql.js"}, headers={"accept": "*/*"})
    assert asset.status_code == HTTPStatus.BAD_REQUEST
    assert media_of(asset) == JSON


@pytest.mark.parametrize(
    ("settings", "served"),
    [({"production": True}, False), ({"production": True, "graphiql": True}, True), ({}, True)],
)
def test_production_turns_it_off_unless_asked_for(
    client: httpx.Client, settings: dict[str, bool], served: bool
) -> None:
    with start(**settings) as server:
        response = navigate(client, server.http_url)
    assert (media_of(response) == "text/html") is served


def test_behind_a_path_prefix_the_page_names_its_urls_with_it(client: httpx.Client) -> None:
    # A proxy serving the app under /api (uvicorn --root-path /api): the browser must ask for /api/graphql?...
    with serve(LiveGQL(SDL, resolvers=make_resolvers(), keepalive_interval=None), root_path="/api") as server:
        page = navigate(client, server.http_url).text
    assert 'data-endpoint="/api/graphql"' in page
    assert sum(url.startswith("/api/graphql?graphiql=") for url in page_urls(page)) == len(ASSETS)


@pytest.mark.parametrize("name", ASSETS)
def test_the_committed_bundle_loads_nothing_from_elsewhere(name: str) -> None:
    text = BUNDLE.joinpath(name).read_text()
    assert len(text) > 10_000
    # A CDN font, an @import or a fetched URL would break the offline promise and the page's CSP.
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", text)
    assert "@import" not in text
    assert not re.search(r"(?:unpkg\.com|jsdelivr\.net|cdnjs|fonts\.googleapis)", text)
