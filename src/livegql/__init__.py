"""livegql: the real-time GraphQL server for Python (HTTP, WebSocket and subscriptions on graphql-core)."""

from livegql.broker import PubSub
from livegql.core.config import Settings
from livegql.core.errors import (
    ClientError,
    ConfigurationError,
    ConnectionRejectedError,
    LiveGQLError,
    SlowConsumerError,
)
from livegql.engine.keys import add_resource_keys
from livegql.transport import Admission, LiveGQL

__version__ = "0.1.0"

__all__ = [
    "Admission",
    "ClientError",
    "ConfigurationError",
    "ConnectionRejectedError",
    "LiveGQL",
    "LiveGQLError",
    "PubSub",
    "Settings",
    "SlowConsumerError",
    "__version__",
    "add_resource_keys",
]
