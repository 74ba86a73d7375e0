"""`DemoSite` runs its background (the chat's PostgreSQL listener) for the ASGI lifespan: started before startup
completes, closed at shutdown; a background that cannot start fails the startup with a message, not a traceback."""

from typing import Any

from livegql.demo import Feeds, create_app
from livegql.demo.simulation import Simulation
from livegql.demo.site import DemoSite


class Recorder:
    """A background that records what the site asked of it (and can refuse to start)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[str] = []
        self._error = error

    async def start(self) -> None:
        self.calls.append("start")
        if self._error is not None:
            raise self._error

    async def close(self) -> None:
        self.calls.append("close")


def site_with(background: Recorder) -> DemoSite:
    feeds = Feeds(seed=1)
    graphql = create_app(":memory:", feeds=feeds)
    simulation = Simulation(feeds.ticker, feeds.grid, graphql.invalidate, 0, 0)  # rates 0: nothing moves
    return DemoSite(graphql, simulation, background=background)


async def lifespan(site: DemoSite, *incoming: str) -> list[dict[str, Any]]:
    """Run the site's lifespan on `incoming` messages; the messages it sent."""
    queue = [{"type": kind} for kind in incoming]
    sent: list[dict[str, Any]] = []

    async def receive() -> Any:
        return queue.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await site({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    return sent


async def test_the_background_runs_from_startup_to_shutdown() -> None:
    background = Recorder()
    site = site_with(background)
    sent = await lifespan(site, "lifespan.startup", "lifespan.shutdown")
    assert [message["type"] for message in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert background.calls[0] == "start"
    assert "close" in background.calls


async def test_a_background_that_cannot_start_fails_the_startup() -> None:
    background = Recorder(OSError("database unreachable"))
    sent = await lifespan(site_with(background), "lifespan.startup")
    assert sent == [{"type": "lifespan.startup.failed", "message": "the demo could not start: database unreachable"}]
    assert background.calls == ["start"]
