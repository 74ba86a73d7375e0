"""Pub/sub behind one interface: `PubSub` fronts a backend (in-memory now; Redis by URL later)."""

from livegql.broker.base import Backend, Subscription
from livegql.broker.memory import MemoryBackend
from livegql.broker.pubsub import INVALIDATION_TOPIC, REVOCATION_TOPIC, PubSub
from livegql.broker.scope import subscription_scope

__all__ = [
    "INVALIDATION_TOPIC",
    "REVOCATION_TOPIC",
    "Backend",
    "MemoryBackend",
    "PubSub",
    "Subscription",
    "subscription_scope",
]
