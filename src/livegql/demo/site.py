"""`DemoSite`: the demo's ASGI app, the page (`/` and `/static/...`, with a Content-Security-Policy) in front of
the GraphQL app (`/graphql` and everything else), and the simulation (and a background source, such as the chat's
PostgreSQL listener) run for the life of the ASGI lifespan."""

import asyncio
from pathlib import Path
from typing import Protocol

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from livegql import LiveGQL
from livegql.demo.simulation import Simulation

STATIC_DIR = Path(__file__).parent / "static"
"""The built page (web/demo, bundled by esbuild): index.html, app.js, app.css; no CDN, so it works offline."""

# No inline script or style, nothing from another origin: user text that slipped into the DOM as HTML could run
# nothing. connect-src names ws: and wss: because older browsers do not count a WebSocket to the page's own
# host as 'self'.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class Background(Protocol):
    """Something the site runs from the lifespan's startup to its shutdown: started before the first client is
    served (so nothing a client could see is missed), closed before the GraphQL app."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class DemoSite:
    """The ASGI app `livegql demo` serves: `graphql` answers GraphQL (and the paths the page does not own)."""

    def __init__(
        self,
        graphql: LiveGQL,
        simulation: Simulation,
        static_dir: Path = STATIC_DIR,
        *,
        background: Background | None = None,
    ) -> None:
        # Named `app`, as middleware names what it wraps: the CLI's graceful shutdown finds the LiveGQL to drain
        # (its open WebSockets closed cleanly on Ctrl-C) by following `.app`.
        self.app = graphql
        self.simulation = simulation
        self.background = background
        index = static_dir / "index.html"
        self._pages = Starlette(
            routes=[
                Route("/", lambda _: FileResponse(index, media_type="text/html; charset=utf-8")),
                Mount("/static", StaticFiles(directory=static_dir)),
            ]
        )

    @property
    def graphql(self) -> LiveGQL:
        return self.app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
        elif scope["type"] == "http" and _is_page(scope["path"]):
            await self._pages(scope, receive, _with_headers(send))
        else:
            await self.app(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The background started, then the GraphQL app's lifespan; the background closed after it in any case."""
        startup = await receive()
        if self.background is not None:
            try:
                await self.background.start()
            except Exception as error:
                # Reported as the ASGI spec says, not raised: the server then says why it stops, without a traceback.
                await send({"type": "lifespan.startup.failed", "message": f"the demo could not start: {error}"})
                return
        replayed = False

        async def receive_startup_first() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return startup
            return await receive()

        try:
            await self._app_lifespan(scope, receive_startup_first, send)
        finally:
            if self.background is not None:
                await self.background.close()

    async def _app_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The GraphQL app's lifespan, with the simulation running from its startup to its shutdown."""
        async with asyncio.TaskGroup() as tasks:
            running: list[asyncio.Task[None]] = []

            async def sent(message: Message) -> None:
                await send(message)
                if message["type"] == "lifespan.startup.complete":
                    running.append(tasks.create_task(self.simulation.run()))

            async def received() -> Message:
                message = await receive()
                if message["type"] == "lifespan.shutdown" and running:
                    # Stopped, and awaited, before the app shuts down: no invalidation races the closing of live
                    # queries, and nothing is left running once shutdown is reported (uvicorn may then end the
                    # loop at once, and a lifespan still busy would be cancelled and logged as unsupported).
                    for task in running:
                        task.cancel()
                    await asyncio.wait(running)
                if message["type"] == "lifespan.shutdown" and self.background is not None:
                    await self.background.close()  # as the simulation: nothing invalidates while the app closes
                return message

            try:
                await self.app(scope, received, sent)
            finally:
                for task in running:
                    task.cancel()


def _is_page(path: str) -> bool:
    return path == "/" or path.startswith("/static/")


def _with_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *PAGE_HEADERS]}
        await send(message)

    return sending
