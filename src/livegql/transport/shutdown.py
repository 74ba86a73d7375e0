"""Graceful shutdown of one app's sessions, within a grace period.

New sessions are refused; running queries and mutations finish; events already on their way are written;
then every session ends so that its client comes back to another server: WebSockets close with 1012 (Service
Restart, which graphql-ws and subscriptions-transport-ws clients retry with a randomised backoff), SSE streams
end without `complete` after a jittered `retry:`, multipart streams with their fatal error part. A peer that
does not read its last frames in time is cut, so the whole drain is bounded.
"""

import asyncio
import logging
import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from livegql.core.config import Settings
from livegql.protocol import CloseCode

if TYPE_CHECKING:
    from livegql.transport.runtime import Runtime
    from livegql.transport.session import Session

logger = logging.getLogger("livegql.shutdown")

SERVICE_RESTART: Final = CloseCode.SERVICE_RESTART
SHUTTING_DOWN: Final = "server shutting down"
SETTLE_QUIET: Final = 0.05
"""Seconds without a new subscription result after which events published before the drain count as relayed."""


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What a drain did: sessions open when it began, those that ended by themselves (their last frame written,
    or the peer gone) and those cut at the deadline; and how long it took."""

    sessions: int
    ended: int
    cut: int
    seconds: float


def draining(runtime: "Runtime") -> bool:
    """Whether the app is shutting down: new sessions are refused (1012, or 503 with Retry-After)."""
    return runtime.sessions.draining


def retry_delay(settings: Settings) -> float:
    """A random delay in `shutdown_retry_window`: each client is told a different one, so they spread out."""
    low, high = settings.shutdown_retry_window
    return random.uniform(low, high)


def retry_after_header(settings: Settings) -> tuple[bytes, bytes]:
    """`Retry-After` (whole seconds, at least 1) for a stream refused while draining."""
    return b"retry-after", str(max(1, math.ceil(retry_delay(settings)))).encode()


async def drain(runtime: "Runtime", grace: float | None = None) -> DrainReport:
    """Shut the app's sessions down within `grace` seconds (default `shutdown_grace_period`).

    Half the grace period is for work to finish (running operations, events on their way); the rest for the
    last frames to be written. From the start on, new WebSockets and event streams are refused.
    """
    period = runtime.settings.shutdown_grace_period if grace is None else grace
    loop = asyncio.get_running_loop()
    start = loop.time()
    runtime.sessions.draining = True
    opened = len(runtime.sessions)
    try:
        async with asyncio.timeout(period / 2):
            await _quiesce(runtime)
    except TimeoutError:
        logger.warning("Shutdown: operations still running after %.1f s; they are stopped", period / 2)
    sessions = runtime.sessions.sessions()
    for session in sessions:
        session.close_for_restart()
    cut = await _wait_ended(runtime, sessions, start + period - loop.time())
    seconds = loop.time() - start
    logger.info("Shutdown: %d sessions ended, %d cut, in %.2f s", len(sessions) - cut, cut, seconds)
    return DrainReport(sessions=opened, ended=len(sessions) - cut, cut=cut, seconds=seconds)


async def _quiesce(runtime: "Runtime") -> None:
    """Let every running query, mutation and init hook finish, then the events they published be relayed."""
    for session in runtime.sessions.sessions():
        await session.operations_finished()
    await _settle(runtime)


async def _settle(runtime: "Runtime") -> None:
    """Wait until the subscription hub relays nothing new for SETTLE_QUIET seconds.

    An event published before the drain may still be in a broker queue, or being executed: closing its
    subscribers now would lose it for this process's clients (a memory broker cannot replay it after the
    restart). The hub exposes no queue depth, so its result counter standing still is the sign.
    """
    hub = runtime.subscriptions
    seen = -1
    while hub.executions != seen:
        seen = hub.executions
        await asyncio.sleep(SETTLE_QUIET)


async def _wait_ended(runtime: "Runtime", sessions: "list[Session]", remaining: float) -> int:
    """Wait for the sessions' tasks to end until the deadline; cut those still open. Returns how many."""
    tasks = {task for session in sessions if (task := session.task) is not None and not task.done()}
    if tasks and remaining > 0:
        await asyncio.wait(tasks, timeout=remaining)
    left = runtime.sessions.sessions()  # a session leaves the registry when it ends
    for session in left:
        session.cut()
    return len(left)
