"""`Simulation`: the background task that moves the ticker's prices and the grid's points, and says so by
invalidating their live-query keys; one task per server, started and stopped with the ASGI lifespan."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from livegql.demo.feeds import Grid, Ticker
from livegql.demo.feeds_schema import point_key, stock_key

DEFAULT_TICKS_PER_SECOND = 5.0
DEFAULT_MOVES_PER_SECOND = 2.0

Invalidate = Callable[..., Awaitable[None]]
logger = logging.getLogger(__name__)


@dataclass
class Simulation:
    """Steps `ticker` `ticks_per_second` times and `grid` `moves_per_second` times a second; a rate of 0 turns
    that feed's simulation off (a test then drives it by mutations alone)."""

    ticker: Ticker
    grid: Grid
    invalidate: Invalidate
    ticks_per_second: float = DEFAULT_TICKS_PER_SECOND
    moves_per_second: float = DEFAULT_MOVES_PER_SECOND

    async def tick(self) -> list[str]:
        """One ticker step: the symbols that moved, whose live queries are invalidated."""
        moved = self.ticker.step()
        await self.invalidate(*(stock_key(symbol) for symbol in moved))
        return moved

    async def move(self) -> list[str]:
        """One grid step: the points that moved, whose live queries are invalidated."""
        moved = self.grid.step()
        if moved:
            await self.invalidate(*(point_key(point) for point in moved))
        return moved

    async def run(self) -> None:
        """Step both feeds at their rates until cancelled. Live queries re-run at most at the hub's throttle,
        and a slow client gets only the latest result, so a fast rate costs the server a bounded amount."""
        async with asyncio.TaskGroup() as tasks:
            if self.ticks_per_second > 0:
                tasks.create_task(_every(1 / self.ticks_per_second, self.tick))
            if self.moves_per_second > 0:
                tasks.create_task(_every(1 / self.moves_per_second, self.move))


async def _every(interval: float, step: Callable[[], Awaitable[object]]) -> None:
    # A fixed period from a monotonic schedule, so a slow step shortens the next wait instead of drifting.
    loop = asyncio.get_running_loop()
    due = loop.time()
    while True:
        due += interval
        await asyncio.sleep(max(0.0, due - loop.time()))
        try:
            await step()
        except Exception:
            # One failed invalidation (a broker briefly unreachable) must not end the simulation, nor with it
            # the ASGI lifespan and so the server: log it and step again on schedule.
            logger.exception("demo simulation step failed")
