"""The app's per-event authorization: may this subscriber see this event?

Subscribers of one shared stream get one execution per event; the hook is asked about that shared result,
once per event for each distinct viewer key (who the subscriber is, whatever the sharing mode), so a thousand
connections of one user cost one call, not a thousand.
"""

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeAlias

from graphql import ExecutionResult

logger = logging.getLogger("livegql.fanout")

AuthorizeEvent: TypeAlias = Callable[[dict[str, Any], ExecutionResult], bool]
"""`authorize_event(context, result) -> bool`: whether the subscriber with this context may see this
subscription result. Called on the event loop for every event: it must be quick and must not block."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """One subscriber as the hook sees it: its context, and the key that says who it is."""

    context: dict[str, Any]
    key: Hashable


class EventGate:
    """Asks the hook about one event, at most once per viewer key."""

    __slots__ = ("_authorize", "withheld")

    def __init__(self, authorize: AuthorizeEvent) -> None:
        self._authorize = authorize
        self.withheld = 0
        """Deliveries the hook refused so far: for tests and metrics."""

    def decide(self, result: ExecutionResult, viewer: Viewer | None, decided: dict[Hashable, bool]) -> bool:
        """Whether `viewer` may see `result`; `decided` caches the answers for this one event."""
        if viewer is None:
            return False  # joined without a viewer while a hook is set: nothing to authorise against
        allowed = decided.get(viewer.key)
        if allowed is None:
            allowed = decided[viewer.key] = self._ask(viewer, result)
        if not allowed:
            self.withheld += 1
        return allowed

    def _ask(self, viewer: Viewer, result: ExecutionResult) -> bool:
        try:
            return self._authorize(viewer.context, result) is True
        except Exception:
            # Fail closed: a hook that cannot decide must not leak the event.
            logger.exception("authorize_event failed; the event is withheld from this subscriber")
            return False
