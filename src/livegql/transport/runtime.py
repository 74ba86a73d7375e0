"""Runtime: what every connection of one app shares (settings, broker, executor, hubs, user hooks)."""

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from livegql.broker import PubSub
from livegql.core.config import Settings
from livegql.engine import Executor, ResultEncoder
from livegql.engine.fanout import SubscriptionHub
from livegql.engine.live import LiveQueryHub
from livegql.transport.context import ContextFactory, ContextValue, OnConnect
from livegql.transport.counters import TransportCounters
from livegql.transport.limits import ConnectionLimits
from livegql.transport.registry import SessionRegistry
from livegql.transport.tracing import OperationTracer

Share: TypeAlias = Literal["identity", "public"] | Callable[[ContextValue], Hashable]
"""Which connections may share one execution of an identical operation (see `LiveGQL(share=...)`)."""


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    pubsub: PubSub
    executor: Executor
    encoder: ResultEncoder
    on_connect: OnConnect | None
    context: ContextFactory
    share: Share
    subscriptions: SubscriptionHub
    live: LiveQueryHub
    connections: ConnectionLimits
    sessions: SessionRegistry
    counters: TransportCounters = field(default_factory=TransportCounters)
    tracer: OperationTracer | None = None
    """Set when the app traces operations (`Settings.tracing`); None costs each operation one check."""
