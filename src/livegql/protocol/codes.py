"""Names the graphql-transport-ws protocol gives to its subprotocol, close codes and message types."""

from enum import IntEnum, StrEnum

GRAPHQL_TRANSPORT_WS_PROTOCOL = "graphql-transport-ws"
"""The `Sec-WebSocket-Protocol` value both sides must agree on (PROTOCOL.md, "Communication")."""

GRAPHQL_WS_LEGACY_PROTOCOL = "graphql-ws"
"""The `Sec-WebSocket-Protocol` of the legacy subscriptions-transport-ws protocol (protocol/legacy_ws.py)."""


class CloseCode(IntEnum):
    """WebSocket close codes: RFC 6455 standard ones plus the 4xxx codes graphql-ws assigns."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    SERVICE_RESTART = 1012  # RFC 6455 registry: "the server is restarting; reconnect" (graceful shutdown)
    TRY_AGAIN_LATER = 1013  # RFC 6455 registry: "Try Again Later"; livegql's slow-consumer close
    INTERNAL_SERVER_ERROR = 4500
    INTERNAL_CLIENT_ERROR = 4005
    BAD_REQUEST = 4400
    BAD_RESPONSE = 4004
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    CONNECTION_INITIALISATION_TIMEOUT = 4408
    CONNECTION_ACKNOWLEDGEMENT_TIMEOUT = 4504
    SUBSCRIBER_ALREADY_EXISTS = 4409
    TOO_MANY_INITIALISATION_REQUESTS = 4429


class MessageType(StrEnum):
    """The `type` field of every message (PROTOCOL.md, "Message types")."""

    CONNECTION_INIT = "connection_init"  # client -> server
    CONNECTION_ACK = "connection_ack"  # server -> client
    PING = "ping"  # bidirectional
    PONG = "pong"  # bidirectional
    SUBSCRIBE = "subscribe"  # client -> server
    NEXT = "next"  # server -> client
    ERROR = "error"  # server -> client
    COMPLETE = "complete"  # bidirectional
