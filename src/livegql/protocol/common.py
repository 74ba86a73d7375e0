"""What the server and client machines share: the Close output and the keep-alive events."""

from dataclasses import dataclass
from typing import Any, Final

from livegql.protocol.codes import CloseCode

MAX_CLOSE_REASON_BYTES: Final = 123
"""RFC 6455 section 5.5: a control frame body is at most 125 bytes, 2 of which carry the close code."""


@dataclass(frozen=True, slots=True)
class Close:
    """Close the socket with this code and reason. Always a machine's last output; the reason is truncated
    to MAX_CLOSE_REASON_BYTES of UTF-8 (never splitting a character), so any transport can send it as is."""

    code: CloseCode
    reason: str

    def __post_init__(self) -> None:
        encoded = self.reason.encode("utf-8", "surrogatepass")
        if len(encoded) > MAX_CLOSE_REASON_BYTES:
            # "ignore" drops the trailing bytes of a character the cut went through.
            short = encoded[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")
            object.__setattr__(self, "reason", short)


Output = str | Close
"""One item of `data_to_send()`: a text frame to send, or the close that ends the socket."""


@dataclass(frozen=True, slots=True)
class PingReceived:
    """The peer sent Ping (PROTOCOL.md, "Ping"); the machine has already queued the Pong."""

    payload: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class PongReceived:
    """The peer sent Pong (PROTOCOL.md, "Pong"): an answer to our Ping, or a unidirectional heartbeat."""

    payload: dict[str, Any] | None
