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
    graphiql: bool | None = None
    """Serve GraphiQL at the GraphQL path to browsers (a GET whose Accept prefers `text/html`), with subscriptions
    and live queries streaming over WebSocket; its assets come from the package. None follows `production` (off
    in production, like introspection, which it needs); False answers such requests as before (JSON)."""
    sse_reservation_timeout: float = 10.0
    """Seconds a single-connection SSE reservation (a PUT's token) waits for its event stream to open."""
    max_sse_reservations: int = 10_000
    """Single-connection SSE reservations and streams one process holds at once; a PUT beyond it gets 503."""

    # --- cross-site defences --------------------------------------------------------------------------------
    allowed_origins: tuple[str, ...] = ()
    """Origins (`https://app.example.com`) whose pages may open a WebSocket or an SSE stream; the server's own
    origin is always allowed, `("*",)` allows every origin. A foreign Origin gets 403 before any upgrade."""
    allow_missing_origin: bool = True
    """Admit handshakes that carry no Origin header: browsers always send one, other clients (CLIs, servers,
    mobile apps) usually do not. False admits browsers from allowed origins only."""
    csrf_prevention: bool = True
    """Refuse HTTP requests a cross-site page could send without a CORS preflight (a "simple" content type, or a
    GET with neither a JSON content type nor a preflight-forcing header), as Apollo Server's csrfPrevention."""
    cors_allow_origins: tuple[str, ...] = ()
    """Origins allowed to call the HTTP endpoint from a browser (CORS); empty sends no CORS headers."""
    cors_allow_credentials: bool = False
    """Let those origins send cookies and read the answer (`Access-Control-Allow-Credentials`)."""
    # --- document limits --------------------------------------------------------------------------------------
    max_depth: int = 20
    """Deepest selection nesting an operation may have."""
    max_aliases: int = 30
    """Most aliased fields in one document."""
    max_tokens: int = 5000
    """Most lexical tokens (and comments) in one document; graphql-core's introspection query has under 200."""
    max_root_fields: int = 50
    """Most fields at an operation's top level."""
    max_operations_per_document: int = 10
    """Most operations defined in one document (only one runs; many are only cost)."""
    production: bool = False
    """Production mode: no introspection and no "Did you mean" suggestions, unless set explicitly below."""
    introspection: bool | None = None
    """Allow `__schema` / `__type` queries; None follows `production` (off in production)."""
    field_suggestions: bool | None = None
    """Suggest similar names in validation and variable errors; None follows `production` (off in production)."""
    # --- connection limits ------------------------------------------------------------------------------------
    max_operations_per_connection: int = 100
    """Operations one connection (or SSE stream) may run at once; the next gets an error, the others go on."""
    max_subscribes_per_second: float = 50.0
    """Subscriptions and live queries one connection may start per second (a burst of as many is allowed); more
    get an error. Queries and mutations are bounded by `max_operations_per_connection` alone."""
    max_connections_per_client: int = 1000
    """Open WebSocket connections and event streams from one client address."""
    max_connections: int = 20_000
    """Open WebSocket connections and event streams in this process."""
    shutdown_grace_period: float = 10.0
    """Seconds a graceful shutdown (SIGTERM to `livegql serve`, or `await app.shutdown()`) may take: running
    queries finish and queued events are written, then every socket closes with 1012 (Service Restart) and every
    event stream ends; whatever is still open then is cut."""
    shutdown_retry_window: tuple[float, float] = (1.0, 5.0)
    """Seconds: an SSE stream ended by a shutdown is told (`retry:`) to reconnect after a random delay in this
    window, and a stream refused while draining gets a `Retry-After` in it, so clients do not return at once."""
    # --- tracing ----------------------------------------------------------------------------------------------
    tracing: bool = False
    """An OpenTelemetry span per operation, through the global tracer provider (needs `livegql[otel]`)."""
    tracing_documents: bool = False
    """Record each traced operation's query text (`graphql.document`, up to 8 KiB): it may hold literal secrets."""

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
            "max_depth": self.max_depth,
            "max_aliases": self.max_aliases,
            "max_tokens": self.max_tokens,
            "max_root_fields": self.max_root_fields,
            "max_operations_per_document": self.max_operations_per_document,
            "max_operations_per_connection": self.max_operations_per_connection,
            "max_subscribes_per_second": self.max_subscribes_per_second,
            "max_connections_per_client": self.max_connections_per_client,
            "max_connections": self.max_connections,
            "shutdown_grace_period": self.shutdown_grace_period,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"Settings.{name} must be positive, got {value!r}")
        if self.live_coalesce_window < 0:
            raise ValueError("Settings.live_coalesce_window must not be negative")
        if self.keepalive_interval is not None and self.keepalive_interval <= 0:
            raise ValueError("Settings.keepalive_interval must be positive or None")
        low, high = self.shutdown_retry_window
        if not 0 <= low <= high:
            raise ValueError("Settings.shutdown_retry_window must be (low, high) seconds with 0 <= low <= high")
        if not self.path.startswith("/"):
            raise ValueError("Settings.path must start with '/'")
