"""What the conformance suite asks of a transport's client: run an operation to its end, stream one, be refused.

Each transport's adapter (ws_clients.py, http_clients.py) speaks its wire protocol by hand, frame by frame,
so the suite tests the server's protocol and not a client library's tolerance (the interop tests in
tests/interop drive the real client libraries).
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

STEP_TIMEOUT = 10.0
"""Longest wait for any one frame, event or response: every await in an adapter is bounded by it."""
ADMIT_TOKEN = "conformance-token"
REJECT_REASON = "bad conformance token"


@dataclass
class Outcome:
    """One operation run to its end: every result payload, then an operation-level error if there was one."""

    results: list[dict[str, Any]] = field(default_factory=list)
    error: list[dict[str, Any]] | None = None

    def error_messages(self) -> list[str]:
        """Messages of the errors the operation failed with, wherever the protocol put them."""
        errors = list(self.error or [])
        for result in self.results:
            errors.extend(result.get("errors") or [])
        return [str(error.get("message")) for error in errors]


class Refused(Exception):
    """The server turned the client away: a close code (WebSocket) or an HTTP status, and its reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"refused with {code}: {reason}")
        self.code = code
        self.reason = reason


class Stream(Protocol):
    async def next(self) -> dict[str, Any]:
        """The next result payload of the operation."""
        ...

    async def ended(self) -> bool | None:
        """Wait for the operation's end: True once the server completed it; None where the protocol has
        no completion message (plain mode)."""
        ...

    async def cancel(self) -> None:
        """Stop listening, the way this transport's clients do."""
        ...


class Conformer(Protocol):
    """A connected client of one transport."""

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> Outcome: ...

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> Stream: ...

    async def aclose(self) -> None: ...
