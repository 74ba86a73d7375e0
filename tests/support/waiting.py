"""Bounded waiting on a condition that another thread or process changes (no sleeps as synchronisation)."""

import asyncio
import time
from collections.abc import Awaitable, Callable

POLL = 0.01


async def until(condition: Callable[[], Awaitable[bool]], limit: float = 5.0, what: str = "condition") -> None:
    """Poll `condition` until true; fail with `what` after `limit` seconds.

    Used only where the state lives on another event loop (the server's thread) and exposes no event.
    """
    deadline = time.monotonic() + limit
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit}s waiting for {what}")
        await asyncio.sleep(POLL)
