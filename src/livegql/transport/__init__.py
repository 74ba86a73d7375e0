"""The ASGI edge: HTTP and WebSocket endpoints; owns tasks, timers and sockets."""

from livegql.transport.app import LiveGQL
from livegql.transport.context import Admission

__all__ = ["Admission", "LiveGQL"]
