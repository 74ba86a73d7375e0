"""The health endpoint: `GET /health` answers whether this process can reach its broker, for load balancers
and orchestrators (200 while it can, 503 while it cannot)."""

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
