"""The backend interface every broker implements, and the subscriber handle they hand out.

Every published event gets a position: a string, monotonically increasing per topic, opaque to clients.
A subscriber may start after a position it saw before (resume) and then receives every retained event after
it, in order and once, followed by the live stream; if events after that position are no longer retained,
it gets `HistoryGoneError` instead of a partial replay.
"""

from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, Self

OnLive = Callable[[str], None]
"""Called once per subscription, from its first `__anext__`, when it is registered with the broker (and any
replay is set up), before it returns an event. The argument is the start position: every event published
after it will be delivered (for a resume, the position resumed after)."""


class Subscription(Protocol):
    """One subscriber's view of a topic: an async iterator of payloads that must be released.

    Released by `aclose()`, by leaving `async with`, or, as a last resort, when it is garbage collected,
    so a resolver that simply does `async for x in pubsub.subscribe(t): yield x` leaks nothing.
    """

    @property
    def topic(self) -> str: ...

    @property
    def position(self) -> str | None:
        """The position of the last payload returned; before any, the start position once live, else None."""

    def __aiter__(self) -> Self: ...

    async def __anext__(self) -> Any: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Backend(Protocol):
    """What `PubSub` needs from a broker implementation."""

    async def publish(self, topic: str, payload: Any, *, idempotency_key: str | None = None) -> str:
        """Deliver `payload` to every current subscriber of `topic`; return its position.

        Raises `BrokerUnavailableError` when the event could not be accepted (never drops it silently). Publishes
        with an `idempotency_key` already accepted (within the retention) are not added again; the position of
        the first is returned.
        """

    def subscribe(self, topic: str, *, after: str | None = None, on_live: OnLive | None = None) -> Subscription:
        """Return a subscriber of `topic`: of events published from now on, or, with `after`, of every event
        after that position (its first `__anext__` raises `HistoryGoneError` if some are no longer retained,
        `InvalidPositionError` if `after` is not a position of this broker)."""

    def subscriber_count(self, topic: str | None = None) -> int:
        """Live subscribers of `topic`, or of all topics; used by health checks and leak tests."""

    def topic_count(self) -> int:
        """Topics with at least one subscriber; an empty topic must not linger."""

    @property
    def healthy(self) -> bool:
        """Whether the broker was reachable at its last use (always True in memory)."""

    async def check(self) -> bool:
        """Ask the broker now (one bounded round trip for Redis) and return whether it answered; the health
        endpoint uses it, so an outage shows even in a process that has not used the broker lately."""

    async def close(self) -> None:
        """Release connections; subscribers' iterators end."""
