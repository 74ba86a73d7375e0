"""Operation-scoped release of subscriptions: whatever an operation subscribed to is closed when it ends.

A resolver written as `async for x in pubsub.subscribe(t): yield x` never closes the iterator it abandons,
and the traceback of a cancelled task can keep it alive past its last use; the scope makes release certain.
"""

import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from livegql.broker.base import Subscription

_current: ContextVar["weakref.WeakSet[Subscription] | None"] = ContextVar("livegql_subscriptions", default=None)


def track(subscription: Subscription) -> None:
    """Called by PubSub.subscribe: ties the subscription to the running operation, if any."""
    owned = _current.get()
    if owned is not None:
        owned.add(subscription)


@asynccontextmanager
async def subscription_scope() -> AsyncIterator[None]:
    """Run an operation inside this; every subscription it opened is closed on exit, however it exits."""
    owned: weakref.WeakSet[Subscription] = weakref.WeakSet()
    token = _current.set(owned)
    try:
        yield
    finally:
        _current.reset(token)
        for subscription in list(owned):
            await subscription.aclose()
