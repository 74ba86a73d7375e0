"""Connection-level limits: a token bucket for subscribes per connection, and the per-app count of open
connections and event streams, per client address and in total (see `Settings.max_connections*`)."""

from collections.abc import Mapping
from typing import Any

TOO_MANY_OPERATIONS = "TOO_MANY_OPERATIONS"
"""Error `extensions.code` of an operation beyond `max_operations_per_connection`."""
RATE_LIMITED = "RATE_LIMITED"
"""Error `extensions.code` of an operation beyond `max_subscribes_per_second`."""
TOO_MANY_CONNECTIONS = "Too many connections; try again later"
RETRY_AFTER_SECONDS = 1
"""What a refused event stream is told to wait (`Retry-After`): a slot frees as soon as any stream ends."""


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; starts full. Pure: the caller passes a monotonic `now`."""

    __slots__ = ("_burst", "_last", "_rate", "_tokens")

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and room for at least one token")
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last: float | None = None

    def take(self, now: float) -> bool:
        """Spend one token if there is one (refilled for the time since the last call)."""
        if self._last is not None and now > self._last:
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        if self._last is None or now > self._last:
            self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class ConnectionLimits:
    """Open WebSocket connections and HTTP event streams of one app, by client address and in total.

    Every `acquire` that returned True must be matched by exactly one `release` of the same address.
    """

    __slots__ = ("_by_client", "_per_client", "_total", "total")

    def __init__(self, per_client: int, total: int) -> None:
        self._per_client = per_client
        self._total = total
        self._by_client: dict[str, int] = {}
        self.total = 0

    def count(self, client: str) -> int:
        return self._by_client.get(client, 0)

    def acquire(self, client: str) -> bool:
        """Count one more connection from `client`, unless that would exceed a limit (then False)."""
        held = self._by_client.get(client, 0)
        if self.total >= self._total or held >= self._per_client:
            return False
        self._by_client[client] = held + 1
        self.total += 1
        return True

    def release(self, client: str) -> None:
        held = self._by_client.get(client, 0)
        if held <= 0:
            raise RuntimeError(f"released a connection of {client!r} that was never acquired")
        if held == 1:
            del self._by_client[client]  # no entry per address ever seen: the map holds open ones only
        else:
            self._by_client[client] = held - 1
        self.total -= 1


def client_address(scope: Mapping[str, Any]) -> str:
    """The peer's address as the server reports it ("" when it reports none, e.g. a Unix socket). Behind a
    proxy that is the proxy's, unless the server rewrites it from forwarded headers (uvicorn --proxy-headers)."""
    client = scope.get("client")
    return str(client[0]) if client else ""
