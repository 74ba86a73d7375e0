"""livegql's Python client: `Client` over graphql-transport-ws, `HTTPClient` over HTTP.

`Client` reconnects, fails over between URLs, and resumes subscriptions after their last stream position, so
no event is lost or repeated; when the server no longer has that history, a subscription raises HistoryGoneError.
"""

from livegql.client.backoff import Backoff
from livegql.client.errors import ClientConnectionError, ConnectionClosedError, HistoryGoneError
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
    "HistoryGoneError",
    "Subscription",
]
