"""What the server and client machines share: the Close output and the keep-alive events."""

from dataclasses import dataclass
from enum import Enum, auto
from typing import Any, Final, Generic, TypeVar

from livegql.core.errors import ProtocolMisuseError
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


class State(Enum):
    """Where a server machine is; every protocol's machine goes through these (some skip AWAITING_INIT)."""

    AWAITING_INIT = auto()  # socket open, no ConnectionInit yet
    INITIALISING = auto()  # ConnectionInit received (or the request is being admitted); accept() or reject()
    ACKNOWLEDGED = auto()  # accepted: operations may run
    CLOSED = auto()  # a Close was queued or the peer left; terminal, everything is ignored


EventT = TypeVar("EventT")


class ServerMachineBase(Generic[EventT]):
    """What every server machine keeps: its state, the events for the app, the outputs for the peer."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._events: list[EventT] = []
        self._outputs: list[Output] = []

    @property
    def state(self) -> State:
        return self._state

    def events_received(self) -> list[EventT]:
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[Output]:
        outputs, self._outputs = self._outputs, []
        return outputs

    def _begin_accept(self, awaiting: str) -> bool:
        """accept()'s guard: False (nothing to do) once closed, since the peer may leave while the app decides;
        misuse unless a decision is pending; else ACKNOWLEDGED and True."""
        if self._state is State.CLOSED:
            return False
        if self._state is not State.INITIALISING:
            raise ProtocolMisuseError(f"accept() needs a pending {awaiting}; state is {self._state.name}")
        self._state = State.ACKNOWLEDGED
        return True


@dataclass(frozen=True, slots=True)
class PingReceived:
    """The peer sent Ping (PROTOCOL.md, "Ping"); the machine has already queued the Pong."""

    payload: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class PongReceived:
    """The peer sent Pong (PROTOCOL.md, "Pong"): an answer to our Ping, or a unidirectional heartbeat."""

    payload: dict[str, Any] | None


REFRESH_KEY: Final = "refresh"
"""The Ping payload entry (graphql-transport-ws) that carries new connection params for an open connection."""


@dataclass(frozen=True, slots=True)
class RefreshReceived:
    """An acknowledged client sent new credentials (a Ping whose payload has a `refresh` object); the Pong
    is already queued. The app re-admits the connection with `params` or closes it 4403."""

    params: dict[str, Any]
