"""Runtime: what every connection of one app shares (settings, broker, executor, encoder, user hooks)."""

from dataclasses import dataclass

from livegql.broker import PubSub
from livegql.core.config import Settings
from livegql.engine import Executor, ResultEncoder
from livegql.transport.context import ContextFactory, OnConnect


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    pubsub: PubSub
    executor: Executor
    encoder: ResultEncoder
    on_connect: OnConnect | None
    context: ContextFactory
