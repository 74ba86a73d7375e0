"""The health endpoint (`GET /health`: is the broker reachable?) and the broker it reports on: the one the
app creates from the environment, which the app closes, or one passed in, which it leaves alone."""

import asyncio
from http import HTTPStatus

import httpx
import pytest

from livegql import LiveGQL, PubSub
from livegql.broker.pubsub import BROKER_URL_ENV
from livegql.core.errors import ConfigurationError
from tests.support.redis import RedisServer
from tests.support.schema import SDL, make_resolvers
from tests.support.server import serve

LIMIT = 5.0
PUBLISH = 'mutation { publish(topic: "news", text: "lost") }'


def make_app(pubsub: PubSub | None = None, health_path: str | None = "/health") -> LiveGQL:
    return LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, health_path=health_path, keepalive_interval=None)


def get(app: LiveGQL, path: str) -> httpx.Response:
    with serve(app) as server:
        return httpx.get(f"http://127.0.0.1:{server.port}{path}", timeout=LIMIT)


def test_health_is_ok_while_the_broker_is_up() -> None:
    response = get(make_app(PubSub()), "/health")
    assert response.status_code == HTTPStatus.OK
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"status": "ok", "broker": "up"}


def test_health_is_degraded_with_503_while_the_broker_is_down() -> None:
    pubsub = PubSub.from_url("redis://127.0.0.1:1")  # nothing listens on port 1
    with serve(make_app(pubsub)) as server, httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as http:
        # A publish is refused with a GraphQL error, and the probe says the broker is down.
        published = http.post("/graphql", json={"query": PUBLISH}, timeout=LIMIT).json()
        assert published["errors"][0]["extensions"]["code"] == "BROKER_UNAVAILABLE", published
        response = http.get("/health", timeout=LIMIT)
        server.call(pubsub.close())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"status": "degraded", "broker": "down"}


def test_health_follows_redis_going_down_and_coming_back_without_any_other_traffic(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with RedisServer(tmp_path_factory.mktemp("redis")) as redis:
        pubsub = PubSub.from_url(redis.url)
        with serve(make_app(pubsub)) as server, httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as http:
            assert http.get("/health", timeout=LIMIT).status_code == HTTPStatus.OK
            redis.stop()
            down = http.get("/health", timeout=LIMIT)  # no publish, no subscriber: the probe itself asks Redis
            redis.start()
            up = http.get("/health", timeout=LIMIT)
            server.call(pubsub.close())
    assert (down.status_code, down.json()) == (HTTPStatus.SERVICE_UNAVAILABLE, {"status": "degraded", "broker": "down"})
    assert up.status_code == HTTPStatus.OK


def test_health_answers_head_without_a_body() -> None:
    with serve(make_app(PubSub())) as server:
        response = httpx.head(f"http://127.0.0.1:{server.port}/health", timeout=LIMIT)
    assert (response.status_code, response.content) == (HTTPStatus.OK, b"")


def test_health_is_not_graphql_so_other_methods_are_refused() -> None:
    with serve(make_app(PubSub())) as server:
        response = httpx.post(f"http://127.0.0.1:{server.port}/health", json={"query": "{ hello }"}, timeout=LIMIT)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_health_path_can_be_moved_or_switched_off() -> None:
    moved = make_app(PubSub(), health_path="/healthz")
    assert get(moved, "/healthz").json() == {"status": "ok", "broker": "up"}
    assert get(moved, "/health").status_code == HTTPStatus.NOT_FOUND
    assert get(make_app(PubSub(), health_path=None), "/health").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(("path", "fragment"), [("health", "must start with '/'"), ("/graphql", "GraphQL path")])
def test_a_bad_health_path_is_a_configuration_error(path: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        make_app(PubSub(), health_path=path)


# --- the app's own broker, or the caller's ------------------------------------------------------------


def test_without_pubsub_the_app_uses_the_broker_named_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BROKER_URL_ENV, "nosuch://broker")
    with pytest.raises(ConfigurationError, match="nosuch://broker"):
        make_app()
    monkeypatch.delenv(BROKER_URL_ENV)
    app = make_app()
    assert app.owns_pubsub
    assert app.pubsub.healthy  # in memory


async def listening(pubsub: PubSub, topic: str) -> "asyncio.Future[object]":
    """The next payload of a new subscriber of `topic` (or "ended"), once the broker has registered it."""
    registered = asyncio.Event()
    subscription = pubsub.backend.subscribe(topic, on_live=lambda _position: registered.set())
    following = asyncio.ensure_future(anext(subscription, "ended"))
    async with asyncio.timeout(LIMIT):
        await registered.wait()
    return following


async def test_the_app_closes_the_broker_it_created(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BROKER_URL_ENV, raising=False)
    app = make_app()
    following = await listening(app.pubsub, "news")
    await app.close()
    async with asyncio.timeout(LIMIT):
        assert await following == "ended"


async def test_the_app_leaves_a_broker_it_was_given_open() -> None:
    pubsub = PubSub()
    app = make_app(pubsub)
    assert not app.owns_pubsub
    following = await listening(pubsub, "news")
    await app.close()
    await pubsub.publish("news", "still open")
    async with asyncio.timeout(LIMIT):
        assert await following == "still open"
    await pubsub.close()
