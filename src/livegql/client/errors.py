"""The client's failures beyond GraphQL errors: an unreachable server, a close that forbids retrying, lost history."""

from livegql.core.errors import ClientError


class ClientConnectionError(ClientError):
    """The server could not be reached, refused the upgrade, did not answer in time, or the link was lost."""

    code = "CLIENT_CONNECTION_ERROR"


class ConnectionClosedError(ClientError):
    """The WebSocket closed with `close_code` (a 4xxx graphql-transport-ws code or an RFC 6455 one)."""

    code = "CONNECTION_CLOSED"

    def __init__(self, close_code: int, reason: str) -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(f"connection closed with code {close_code}{detail}")
        self.close_code = close_code
        self.reason = reason


class HistoryGoneError(ClientError):
    """A resume asked for the events after `position`, which the server no longer retains.

    The server replays nothing rather than part of the gap: refetch the state, then subscribe afresh.
    """

    code = "HISTORY_GONE"

    def __init__(self, message: str, errors: list[dict[str, object]], position: str | None) -> None:
        super().__init__(message, errors)
        self.position = position
