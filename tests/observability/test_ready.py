"""`GET /ready`: 200 while the app serves and its broker answers; 503 while the broker is down and once a drain
began (`LiveGQL.shutdown`), while `/health` still says the process is alive."""

from http import HTTPStatus

import httpx

from livegql import PubSub
from tests.observability.support import LIMIT, make_app
from tests.support.server import serve
from tests.support.wsclient import connect


def test_ready_while_serving_with_the_broker_up() -> None:
    with serve(make_app()) as server:
        response = httpx.get(f"http://127.0.0.1:{server.port}/ready", timeout=LIMIT)
    assert (response.status_code, response.json()) == (HTTPStatus.OK, {"status": "ready"})
    assert response.headers["cache-control"] == "no-store"


def test_not_ready_while_the_broker_is_down() -> None:
    pubsub = PubSub.from_url("redis://127.0.0.1:1")  # nothing listens on port 1
    with serve(make_app(pubsub=pubsub)) as server:
        response = httpx.get(f"http://127.0.0.1:{server.port}/ready", timeout=LIMIT)
        server.call(pubsub.close())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"status": "degraded", "broker": "down"}


async def test_not_ready_once_draining_though_still_healthy() -> None:
    app = make_app()
    with serve(app) as server:
        base = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=base, timeout=LIMIT) as http, connect(server.ws_url) as peer:
            await peer.init()
            assert (await http.get("/ready")).status_code == HTTPStatus.OK
            report = await server.acall(app.shutdown(grace=LIMIT))
            assert await peer.closed() == (1012, "server shutting down")
            ready, health = await http.get("/ready"), await http.get("/health")
    assert report.sessions == 1
    assert (ready.status_code, ready.json()) == (HTTPStatus.SERVICE_UNAVAILABLE, {"status": "draining"})
    assert health.status_code == HTTPStatus.OK


def test_the_ready_path_can_be_moved_or_switched_off() -> None:
    with serve(make_app(ready_path="/readyz")) as server:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{base}/readyz", timeout=LIMIT).status_code == HTTPStatus.OK
        assert httpx.get(f"{base}/ready", timeout=LIMIT).status_code == HTTPStatus.NOT_FOUND
    with serve(make_app(ready_path=None)) as server:
        assert httpx.get(f"http://127.0.0.1:{server.port}/ready", timeout=LIMIT).status_code == 404
