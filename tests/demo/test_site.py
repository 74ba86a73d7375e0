"""The page `livegql demo` serves: `/` and `/static/...` with their content types and a Content-Security-Policy,
GraphQL still at /graphql, nothing outside the static folder; and the CLI's demo command builds it."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from livegql.demo import CONTENT_SECURITY_POLICY, STATIC_DIR, DemoSite, create_site
from livegql.draining import find_apps
from tests.demo.site_server import serve_demo


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = create_site(str(tmp_path_factory.mktemp("site") / "chat.db"))
    with serve_demo(site) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/static/app.js", "text/javascript; charset=utf-8"),
        ("/static/app.css", "text/css; charset=utf-8"),
        ("/static/favicon.svg", "image/svg+xml"),
    ],
)
def test_the_page_and_its_files_have_their_types_and_the_policy(origin: str, path: str, content_type: str) -> None:
    response = httpx.get(origin + path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_policy_allows_no_inline_script_and_no_other_origin() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self' ws: wss:"


def test_the_page_loads_only_its_own_files(origin: str) -> None:
    html = httpx.get(origin + "/").text
    assert '<script type="module" src="/static/app.js"></script>' in html
    assert "<script>" not in html
    assert "style=" not in html
    assert "http" not in html.split("<body>")[1]


def test_the_built_files_are_in_the_package() -> None:
    assert {path.name for path in STATIC_DIR.iterdir()} >= {"index.html", "app.js", "app.css", "favicon.svg"}
    # Bundled, not fetched: graphql-ws is inside app.js, and the only absolute URL is SVG's namespace name.
    script = (STATIC_DIR / "app.js").read_text()
    assert "graphql-transport-ws" in script
    assert set(re.findall(r"(?:https?|wss?)://[^\"'`\s]*", script)) == {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize("name", ["index.html", "favicon.svg"])
def test_the_copied_files_match_their_sources(name: str) -> None:
    # A reminder to rebuild (web/demo: npm run build) after editing the page; app.js needs node to compare.
    source = Path(__file__).parents[2] / "web" / "demo" / "src" / name
    assert (STATIC_DIR / name).read_bytes() == source.read_bytes()


@pytest.mark.parametrize("path", ["/static/missing.js", "/static/../site.py", "/static/%2e%2e/site.py", "/nothing"])
def test_other_paths_are_not_found(origin: str, path: str) -> None:
    assert httpx.get(origin + path).status_code == 404


def test_graphql_stays_at_its_path(origin: str) -> None:
    response = httpx.post(origin + "/graphql", json={"query": "{ stocks { symbol } grid { width height } }"})
    assert response.status_code == 200
    assert response.json()["data"]["grid"] == {"width": 24, "height": 14}


def test_a_static_dir_can_be_given(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>mine</title>")
    site = create_site(":memory:")
    with serve_demo(DemoSite(site.graphql, site.simulation, tmp_path)) as port:
        response = httpx.get(f"http://127.0.0.1:{port}/")
    assert "mine" in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_the_clis_graceful_shutdown_finds_the_graphql_app_to_drain() -> None:
    site = create_site(":memory:")
    assert find_apps(site) == [site.graphql]
