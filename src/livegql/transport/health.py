"""The health endpoints: `GET /health` answers whether this process can reach its broker, for load balancers
and orchestrators (200 while it can, 503 while it cannot); `GET /ready` whether to send it new clients."""

from collections.abc import Callable
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livegql.broker import PubSub
from livegql.core import json
from livegql.core.errors import ConfigurationError

_UP = json.dumps_bytes({"status": "ok", "broker": "up"})
_DOWN = json.dumps_bytes({"status": "degraded", "broker": "down"})


def health_route(path: str, pubsub: PubSub) -> Route:
    """A Starlette route answering GET (and HEAD) at `path` from `pubsub.healthy`."""
    if not path.startswith("/"):
        raise ConfigurationError(f"health_path must start with '/', got {path!r}")

    async def health(_request: Request) -> Response:
        # Asked now, not the broker's view from its last use: a process with no subscribers that has not
        # published lately would otherwise report "ok" through a whole outage. A PING is all it costs.
        up = await pubsub.check()
        return Response(
            _UP if up else _DOWN,
            status_code=HTTPStatus.OK if up else HTTPStatus.SERVICE_UNAVAILABLE,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},  # a cached "ok" would hide an outage
        )

    return Route(path, health, methods=["GET"], name="livegql-health")


_READY = json.dumps_bytes({"status": "ready"})
_DRAINING = json.dumps_bytes({"status": "draining"})


def ready_route(path: str, pubsub: PubSub, is_draining: Callable[[], bool]) -> Route:
    """A route answering whether to send this process new clients: 503 while it drains (`LiveGQL.shutdown`), so
    the load balancer stops before the socket closes, or while the broker is down; else 200. `/health` says
    whether it is alive; a draining process is, but is not ready."""
    if not path.startswith("/"):
        raise ConfigurationError(f"ready_path must start with '/', got {path!r}")

    async def ready(_request: Request) -> Response:
        # Draining first: no broker round trip for a process that is leaving anyway.
        body = _DRAINING if is_draining() else _READY if await pubsub.check() else _DOWN
        return Response(
            body,
            status_code=HTTPStatus.OK if body is _READY else HTTPStatus.SERVICE_UNAVAILABLE,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    return Route(path, ready, methods=["GET"], name="livegql-ready")
