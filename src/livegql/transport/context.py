"""What resolvers find in `info.context`, and the user hooks that add to it."""

import inspect
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from starlette.requests import HTTPConnection

from livegql.broker import PubSub

ContextValue: TypeAlias = dict[str, Any]
ContextFactory: TypeAlias = (
    Mapping[str, Any]
    | Callable[[HTTPConnection], Mapping[str, Any] | Awaitable[Mapping[str, Any] | None] | None]
    | None
)


@dataclass(frozen=True, slots=True)
class Admission:
    """What `on_connect` may return to admit a client for a limited time, or as someone the app may revoke.

    Returning a mapping is `Admission(context=mapping)`; returning True or None is `Admission()`.
    """

    context: Mapping[str, Any] = field(default_factory=dict)
    """Merged into the context of every operation of the connection, as a returned mapping is."""
    expires_at: float | None = None
    """When the credentials end, in `time.time()` seconds: the connection (or event stream) is closed with
    4403 then, unless the client refreshed them first. Already past: the client is refused."""
    principals: tuple[Hashable, ...] = ()
    """Whom the client was admitted as (a user id, a token id...): `LiveGQL.revoke(principal)` closes every
    connection and stream admitted as it."""


OnConnectResult: TypeAlias = Admission | Mapping[str, Any] | bool | None
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
