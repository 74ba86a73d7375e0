"""The ASGI edge: HTTP and WebSocket endpoints; owns tasks, timers and sockets."""

from livegql.transport.app import LiveGQL

__all__ = ["LiveGQL"]
