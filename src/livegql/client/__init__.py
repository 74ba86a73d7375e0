"""livegql's Python client: `Client` over graphql-transport-ws (with reconnection), `HTTPClient` over HTTP."""

from livegql.client.backoff import Backoff
from livegql.client.errors import ClientConnectionError, ConnectionClosedError
from livegql.client.http import HTTPClient
from livegql.client.subscription import Subscription
from livegql.client.websocket import Client
from livegql.core.errors import ClientError

__all__ = [
    "Backoff",
    "Client",
    "ClientConnectionError",
    "ClientError",
    "ConnectionClosedError",
    "HTTPClient",
    "Subscription",
]
