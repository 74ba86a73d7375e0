"""uvicorn's server with a graceful shutdown that drains every LiveGQL app it serves first.

On Ctrl-C or SIGTERM uvicorn closes its listeners, then calls `shutdown()` on every connection, which closes
each WebSocket with 1012 before the app hears anything, then cancels what is still running after its timeout.
`DrainingServer` puts the app's drain (transport/shutdown.py) between the two: listeners closed, idle
keep-alive connections closed, plain requests finished, then each LiveGQL drains within the grace period.
"""

import asyncio
import logging
import os
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors.multiprocess import Process

from livegql.transport import LiveGQL

logger = logging.getLogger("uvicorn.error")

GRACE_ENV = "LIVEGQL_SHUTDOWN_GRACE"
"""How `livegql serve --grace-period` reaches its worker processes: they are spawned and read it afresh."""
AFTER_DRAIN = 1
"""Seconds uvicorn's own shutdown may still take after a drain: the sessions' tasks returning, nothing more."""
_SEARCH_DEPTH = 8  # middleware and mounts a LiveGQL may sit behind


def set_grace_period(seconds: float) -> None:
    """The drain's grace period for this process and the workers it starts (else each app's setting)."""
    os.environ[GRACE_ENV] = str(seconds)


def find_apps(app: Any, depth: int = _SEARCH_DEPTH) -> list[LiveGQL]:
    """The LiveGQL apps inside `app`: itself, or behind middleware (`.app`) and Starlette mounts (`.routes`)."""
    if isinstance(app, LiveGQL):
        return [app]
    if depth == 0 or app is None:
        return []
    found: list[LiveGQL] = []
    for inner in [getattr(app, "app", None), *(getattr(route, "app", None) for route in _routes(app))]:
        for candidate in find_apps(inner, depth - 1):
            if candidate not in found:
                found.append(candidate)
    return found


def _routes(app: Any) -> list[Any]:
    routes = getattr(app, "routes", None)
    return list(routes) if isinstance(routes, list) else []


class DrainingServer(uvicorn.Server):
    """uvicorn.Server whose shutdown drains the LiveGQL apps it serves before uvicorn's own shutdown runs."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        apps = find_apps(self.config.loaded_app)
        if apps:
            await self._drain(apps, sockets)
            self.config.timeout_graceful_shutdown = AFTER_DRAIN
        await super().shutdown(sockets)

    async def _drain(self, apps: list[LiveGQL], sockets: list[socket.socket] | None) -> None:
        loop = asyncio.get_running_loop()
        grace = _grace_period(apps)
        deadline = loop.time() + grace
        logger.info("Draining: up to %.1f s for operations to finish and clients to be told to reconnect", grace)
        for server in self.servers:
            server.close()  # stop accepting: uvicorn does it again, harmlessly
        for listener in sockets or []:
            listener.close()
        for connection in list(self.server_state.connections):
            if hasattr(connection, "cycle"):  # HTTP: idle keep-alive ones close, busy ones after their response
                connection.shutdown()
        await self._plain_requests_finished(apps, grace / 2)
        reports = await asyncio.gather(*(app.shutdown(max(deadline - loop.time(), 0.0)) for app in apps))
        for report in reports:
            logger.info("Drained: %d sessions ended, %d cut, in %.2f s", report.ended, report.cut, report.seconds)

    async def _plain_requests_finished(self, apps: list[LiveGQL], limit: float) -> None:
        """Wait (up to `limit`) for requests that are no session: a mutation answered during the drain must
        publish before the subscribers it concerns are closed."""
        sessions = {session.task for app in apps for session in app.runtime.sessions.sessions()}
        plain = {task for task in self.server_state.tasks if task not in sessions and not task.done()}
        if plain:
            await asyncio.wait(plain, timeout=limit)


def _grace_period(apps: list[LiveGQL]) -> float:
    configured = os.environ.get(GRACE_ENV)
    if configured:
        return float(configured)
    return max(app.settings.shutdown_grace_period for app in apps)


class DrainingProcess(Process):
    """uvicorn's worker process, serving with a DrainingServer (module level: it is pickled into the child)."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = DrainingServer(config=self.config)
        return self._server
