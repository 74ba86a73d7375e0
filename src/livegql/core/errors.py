"""livegql's exceptions: each has a stable string code so logs, clients and tests can match on it."""


class LiveGQLError(Exception):
    """Base of every error livegql raises on purpose."""

    code = "LIVEGQL_ERROR"


class ConfigurationError(LiveGQLError):
    """The app was set up wrongly (bad schema, resolver map or setting); raised at construction time."""

    code = "CONFIGURATION_ERROR"


class ProtocolMisuseError(LiveGQLError):
    """Local code drove a protocol machine wrongly (a peer's error is an output, never this)."""

    code = "PROTOCOL_MISUSE"


class SlowConsumerError(LiveGQLError):
    """A subscriber fell further behind its topic than its queue allows; its stream ends with this error."""

    code = "SLOW_CONSUMER"


class ConnectionRejectedError(LiveGQLError):
    """Raised by an `on_connect` hook (or returned as False) to refuse a connection: close 4403."""

    code = "FORBIDDEN"


class ClientError(LiveGQLError):
    """Raised by `livegql.client` when the server answers with GraphQL errors or the connection fails."""

    code = "CLIENT_ERROR"

    def __init__(self, message: str, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class BrokerUnavailableError(LiveGQLError):
    """The broker could not accept a publish (e.g. Redis is unreachable): the event was NOT published.

    Raised to the caller instead of dropping the event; a mutation that publishes gets a GraphQL error.
    """

    code = "BROKER_UNAVAILABLE"


class HistoryGoneError(LiveGQLError):
    """A resume asked for events after a position the broker no longer retains (or never knew).

    The server never sends a partial replay: the subscription ends with this error so the client can refetch.
    """

    code = "HISTORY_GONE"


class InvalidPositionError(LiveGQLError):
    """A resume position that is not one the broker hands out (malformed text)."""

    code = "INVALID_POSITION"
