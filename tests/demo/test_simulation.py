"""The ticker and grid simulation: each step invalidates exactly the keys of what moved; it runs only while the
ASGI lifespan does (started after startup, cancelled at shutdown, leaving no task); on a real server a live
query sees prices and points move with no client changing anything."""

import asyncio
from typing import Any

import pytest

from livegql.demo import DemoSite, Feeds, create_app, create_site
from livegql.demo.feeds import Grid, Ticker
from livegql.demo.simulation import Simulation
from tests.demo.site_server import serve_demo
from tests.support.wsclient import connect

LIMIT = 5.0


class Invalidations:
    """A stand-in for `LiveGQL.invalidate` that records each call and says when `wanted` calls have been made."""

    def __init__(self, wanted: int = 1) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.wanted = wanted
        self.enough = asyncio.Event()

    async def __call__(self, *keys: str) -> None:
        self.calls.append(keys)
        if len(self.calls) >= self.wanted:
            self.enough.set()


async def test_a_tick_invalidates_the_symbols_that_moved() -> None:
    invalidations = Invalidations()
    simulation = Simulation(Ticker(seed=2), Grid(seed=2), invalidations)
    for _ in range(10):
        moved = await simulation.tick()
        assert invalidations.calls.pop() == tuple(f"Stock:{symbol}" for symbol in moved)


async def test_a_move_invalidates_the_points_that_moved_and_nothing_when_none_did() -> None:
    invalidations = Invalidations()
    simulation = Simulation(Ticker(seed=2), Grid(seed=2), invalidations)
    for _ in range(30):
        moved = await simulation.move()
        if moved:
            assert invalidations.calls.pop() == tuple(f"Point:{point}" for point in moved)
        else:
            assert invalidations.calls == []


async def test_rates_of_zero_run_nothing() -> None:
    invalidations = Invalidations()
    simulation = Simulation(Ticker(), Grid(), invalidations, ticks_per_second=0, moves_per_second=0)
    async with asyncio.timeout(LIMIT):
        await simulation.run()
    assert invalidations.calls == []


async def test_a_failing_step_is_logged_and_the_simulation_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls = Invalidations(wanted=3)

    async def flaky(*keys: str) -> None:
        await calls(*keys)
        if len(calls.calls) == 1:
            raise ConnectionError("broker down")

    simulation = Simulation(Ticker(seed=1), Grid(seed=1), flaky, ticks_per_second=200, moves_per_second=0)
    async with asyncio.timeout(LIMIT), asyncio.TaskGroup() as tasks:
        running = tasks.create_task(simulation.run())
        await calls.enough.wait()
        running.cancel()
    assert "demo simulation step failed" in caplog.text


async def test_the_simulation_runs_from_lifespan_startup_to_shutdown() -> None:
    feeds = Feeds(seed=4)
    invalidations = Invalidations(wanted=5)
    simulation = Simulation(feeds.ticker, feeds.grid, invalidations, ticks_per_second=200, moves_per_second=200)
    site = DemoSite(create_app(":memory:", feeds=feeds), simulation)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=4)
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=4)
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    before = asyncio.all_tasks()
    async with asyncio.timeout(LIMIT):
        lifespan = asyncio.create_task(site(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
        assert invalidations.calls == []
        await inbox.put({"type": "lifespan.startup"})
        assert (await outbox.get())["type"] == "lifespan.startup.complete"
        await invalidations.enough.wait()
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        # Already stopped when shutdown is reported: uvicorn may end the loop at once, cancelling what is left.
        assert asyncio.all_tasks() - before <= {lifespan}
        await lifespan


async def test_on_a_real_server_live_queries_see_prices_and_points_move_by_themselves() -> None:
    site = create_site(":memory:", seed=9, ticks_per_second=50, moves_per_second=50)
    with serve_demo(site, lifespan="on") as port:
        async with connect(f"ws://127.0.0.1:{port}/graphql") as peer:
            await peer.init({"livePatches": True})
            await peer.subscribe("stocks", "query @live { stocks { symbol price } }")
            await peer.subscribe("points", "query @live { points { id x y } }")
            revisions: dict[str, int] = {}
            async with asyncio.timeout(LIMIT):
                # Three results each (the first, then two patches), with nobody sending a mutation.
                while len(revisions) < 2 or min(revisions.values()) < 3:
                    message = await peer.receive_type("next")
                    revisions[message["id"]] = message["payload"]["revision"]
