"""Settings: every limit and timer livegql uses, each with a safe default."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    """Server settings; pass to `LiveGQL(..., settings=Settings(...))` or as keyword arguments."""

    path: str = "/graphql"
    """URL path of the GraphQL endpoint (HTTP and WebSocket)."""
    debug: bool = False
    """Show resolver exception messages to clients instead of "Internal server error"."""
    connection_init_wait_timeout: float = 3.0
    """Seconds a WebSocket client has to send ConnectionInit before it is closed with 4408."""
    keepalive_interval: float | None = 12.0
    """Seconds between keep-alives: Ping (graphql-transport-ws), `ka` (legacy), a comment (SSE), an empty part
    (multipart). None turns them off."""
    document_cache_size: int = 1000
    """How many parsed and validated documents the LRU keeps, keyed by query text."""
    send_queue_size: int = 1000
    """Frames waiting to be written to one WebSocket. When it is full, a subscription's next event closes the
    socket with 1013 ("slow consumer") and a live query keeps only its latest result until there is room."""
    max_message_bytes: int = 64 * 1024
    """Largest WebSocket text message accepted; a larger one closes the socket with 4400."""
    max_body_bytes: int = 1024 * 1024
    """Largest HTTP request body accepted; a larger one gets 413."""
    max_query_bytes: int = 100_000
    """Largest query text accepted, over any transport."""
    close_timeout: float = 5.0
    """Seconds allowed for writing a Close to a peer that stopped reading before the socket is dropped."""
    live_coalesce_window: float = 0.05
    """Seconds a live query waits after an invalidation, so a burst of them causes one re-execution."""
    live_max_executions_per_second: float = 20.0
    """Cap on re-executions per second of one live query (shared by everyone watching it)."""
    legacy_protocol: bool = True
    """Also serve the legacy subscriptions-transport-ws protocol (WebSocket subprotocol `graphql-ws`), with the
    same hooks and limits; graphql-transport-ws is preferred when a client offers both."""
    plain_protocol: bool = True
    """Serve WebSocket clients that offer no subprotocol in plain mode: each message is a GraphQL request
    `{"query", "variables", "operationName"}`, each result one message (same hooks and limits)."""

    sse_protocol: bool = True
    """Serve GraphQL over Server-Sent Events (the graphql-sse protocol, both modes) at the GraphQL path: a
    request whose Accept names `text/event-stream`, and the single connection mode's PUT, GET, POST, DELETE."""
    multipart_protocol: bool = True
    """Serve subscriptions and live queries as Apollo multipart HTTP responses to requests whose Accept names
    `multipart/mixed;subscriptionSpec=1.0`."""
    sse_reservation_timeout: float = 10.0
    """Seconds a single-connection SSE reservation (a PUT's token) waits for its event stream to open."""
    max_sse_reservations: int = 10_000
    """Single-connection SSE reservations and streams one process holds at once; a PUT beyond it gets 503."""

    def __post_init__(self) -> None:
        positive = {
            "connection_init_wait_timeout": self.connection_init_wait_timeout,
            "document_cache_size": self.document_cache_size,
            "send_queue_size": self.send_queue_size,
            "max_message_bytes": self.max_message_bytes,
            "max_body_bytes": self.max_body_bytes,
            "max_query_bytes": self.max_query_bytes,
            "close_timeout": self.close_timeout,
            "live_max_executions_per_second": self.live_max_executions_per_second,
            "sse_reservation_timeout": self.sse_reservation_timeout,
            "max_sse_reservations": self.max_sse_reservations,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"Settings.{name} must be positive, got {value!r}")
        if self.live_coalesce_window < 0:
            raise ValueError("Settings.live_coalesce_window must not be negative")
        if self.keepalive_interval is not None and self.keepalive_interval <= 0:
            raise ValueError("Settings.keepalive_interval must be positive or None")
        if not self.path.startswith("/"):
            raise ValueError("Settings.path must start with '/'")
