"""The backend interface every broker implements, and the subscriber handle they hand out."""

from types import TracebackType
from typing import Any, Protocol, Self


class Subscription(Protocol):
    """One subscriber's view of a topic: an async iterator of payloads that must be released.

    Released by `aclose()`, by leaving `async with`, or, as a last resort, when it is garbage collected,
    so a resolver that simply does `async for x in pubsub.subscribe(t): yield x` leaks nothing.
    """

    @property
    def topic(self) -> str: ...

    def __aiter__(self) -> Self: ...

    async def __anext__(self) -> Any: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Backend(Protocol):
    """What `PubSub` needs from a broker implementation."""

    async def publish(self, topic: str, payload: Any) -> None:
        """Deliver `payload` to every current subscriber of `topic`."""

    def subscribe(self, topic: str) -> Subscription:
        """Register a subscriber now (events published from here on are kept for it) and return it."""

    def subscriber_count(self, topic: str | None = None) -> int:
        """Live subscribers of `topic`, or of all topics; used by health checks and leak tests."""

    def topic_count(self) -> int:
        """Topics with at least one subscriber; an empty topic must not linger."""

    async def close(self) -> None:
        """Release connections; subscribers' iterators end."""
