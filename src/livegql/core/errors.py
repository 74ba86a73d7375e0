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
