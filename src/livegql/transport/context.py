"""What resolvers find in `info.context`, and the user hooks that add to it."""

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from starlette.requests import HTTPConnection

from livegql.broker import PubSub

ContextValue: TypeAlias = dict[str, Any]
ContextFactory: TypeAlias = (
    Mapping[str, Any]
    | Callable[[HTTPConnection], Mapping[str, Any] | Awaitable[Mapping[str, Any] | None] | None]
    | None
)
OnConnectResult: TypeAlias = Mapping[str, Any] | bool | None
OnConnect: TypeAlias = Callable[[dict[str, Any], HTTPConnection], OnConnectResult | Awaitable[OnConnectResult]]


async def maybe_await(value: Any) -> Any:
    """Hooks may be plain or async functions."""
    if inspect.isawaitable(value):
        return await value
    return value


def static_context(pubsub: PubSub, request: HTTPConnection, factory: ContextFactory, **extra: Any) -> ContextValue:
    """`build_context` without an await, for a factory that is not callable (None or a mapping)."""
    context: ContextValue = {"pubsub": pubsub, "request": request, **extra}
    if factory is not None and isinstance(factory, Mapping):  # None first: an ABC check costs more than a query
        context.update(factory)
    return context


async def build_context(pubsub: PubSub, request: HTTPConnection, factory: ContextFactory, **extra: Any) -> ContextValue:
    """The base context: `pubsub`, `request` (a Starlette Request or WebSocket), then the app's own keys."""
    context: ContextValue = {"pubsub": pubsub, "request": request, **extra}
    if factory is None:
        return context
    produced = factory if isinstance(factory, Mapping) else await maybe_await(factory(request))
    if produced is not None:
        context.update(produced)
    return context
