"""What happened to this process's sessions, counted as plain integers: sessions and sinks add to them in place
(no lock: one event loop owns them), and the metrics endpoint (metrics.py) reads them at scrape time."""

TRANSPORTS = ("graphql-transport-ws", "legacy", "plain", "sse", "sse-single", "multipart")
"""Every session's `transport_name`: the label of the connection series."""


class TransportCounters:
    __slots__ = (
        "closed",
        "live_coalesced",
        "live_deliveries",
        "opened",
        "slow_consumer_closes",
        "slow_consumer_drops",
        "subscription_deliveries",
    )

    def __init__(self) -> None:
        # Per connection, not per event: a dict by transport is cheap enough there.
        self.opened = dict.fromkeys(TRANSPORTS, 0)
        self.closed = dict.fromkeys(TRANSPORTS, 0)
        self.subscription_deliveries = 0
        """Subscription events handed to a client's send queue (one per event per subscriber)."""
        self.live_deliveries = 0
        """Live-query results handed to a client's send queue."""
        self.slow_consumer_closes = 0
        self.slow_consumer_drops = 0
        """Subscription frames never sent because their session was closed as a slow consumer."""
        self.live_coalesced = 0
        """Live-query results replaced by a newer one while their client's queue was full."""
