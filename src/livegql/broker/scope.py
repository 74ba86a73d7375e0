"""Operation-scoped subscriptions: whatever an operation subscribed to is closed when it ends, and the
operation's resume position and liveness callback reach the broker subscriptions its resolvers open.

A resolver written as `async for x in pubsub.subscribe(t): yield x` never closes the iterator it abandons,
and the traceback of a cancelled task can keep it alive past its last use; the scope makes release certain.
"""

import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from livegql.broker.base import OnLive, Subscription


class Scope:
    """The broker subscriptions one operation opened, and what the operation asked of them."""

    __slots__ = ("_multiple", "_only", "on_live", "owned", "resume_after")

    def __init__(self, resume_after: str | None, on_live: OnLive | None) -> None:
        self.owned: weakref.WeakSet[Subscription] = weakref.WeakSet()
        self.resume_after = resume_after
        self.on_live = on_live
        self._only: Subscription | None = None
        self._multiple = False

    def track(self, subscription: Subscription) -> None:
        self.owned.add(subscription)
        if self._only is None and not self._multiple:
            self._only = subscription
        else:
            self._only, self._multiple = None, True

    @property
    def position(self) -> str | None:
        """The position of the event behind the latest result, when the operation reads exactly one topic.

        With several topics merged by a resolver no single position says what was seen, so there is none.
        """
        only = self._only
        return only.position if only is not None else None


_current: ContextVar[Scope | None] = ContextVar("livegql_subscriptions", default=None)


def current_scope() -> Scope | None:
    """The running operation's scope, if the caller runs inside one (PubSub.subscribe asks)."""
    return _current.get()


@asynccontextmanager
async def subscription_scope(*, resume_after: str | None = None, on_live: OnLive | None = None) -> AsyncIterator[Scope]:
    """Run an operation inside this; every subscription it opened is closed on exit, however it exits.

    `resume_after` makes the subscriptions it opens start after that position (a client's resume); `on_live`
    is told when one is registered with the broker, with its start position.
    """
    scope = Scope(resume_after, on_live)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
        for subscription in list(scope.owned):
            await subscription.aclose()
        scope._only = None
