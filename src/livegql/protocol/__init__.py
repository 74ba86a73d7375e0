"""Sans-I/O protocol machines: graphql-transport-ws (server and client) and the legacy
subscriptions-transport-ws server as plain objects, strings in and out.

Nothing here awaits, reads a clock or touches a socket; transports feed frames in and send what comes out.
"""

from livegql.protocol.client_ws import (
    CLIENT_TRANSITIONS,
    ClientEvent,
    ClientProtocol,
    ClientState,
    ConnectionAckReceived,
    ErrorReceived,
    NextReceived,
    ServerCompleteReceived,
)
from livegql.protocol.codes import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_LEGACY_PROTOCOL, CloseCode, MessageType
from livegql.protocol.common import MAX_CLOSE_REASON_BYTES, Close, Output, PingReceived, PongReceived
from livegql.protocol.legacy_messages import InvalidStart, LegacyMessageType, parse_legacy_message
from livegql.protocol.legacy_ws import LEGACY_TRANSITIONS, LegacyEvent, LegacyServerProtocol
from livegql.protocol.messages import (
    Complete,
    ConnectionAck,
    ConnectionInit,
    Error,
    InvalidMessage,
    Message,
    Next,
    Ping,
    Pong,
    Subscribe,
    SubscribePayload,
    complete_frame,
    encode_message,
    error_frame,
    next_frame,
    parse_message,
)
from livegql.protocol.transport_ws import (
    TRANSITIONS,
    CompleteReceived,
    ConnectionInitReceived,
    Event,
    ServerProtocol,
    State,
    SubscribeReceived,
)

__all__ = [
    "CLIENT_TRANSITIONS",
    "GRAPHQL_TRANSPORT_WS_PROTOCOL",
    "GRAPHQL_WS_LEGACY_PROTOCOL",
    "LEGACY_TRANSITIONS",
    "MAX_CLOSE_REASON_BYTES",
    "TRANSITIONS",
    "ClientEvent",
    "ClientProtocol",
    "ClientState",
    "Close",
    "CloseCode",
    "Complete",
    "CompleteReceived",
    "ConnectionAck",
    "ConnectionAckReceived",
    "ConnectionInit",
    "ConnectionInitReceived",
    "Error",
    "ErrorReceived",
    "Event",
    "InvalidMessage",
    "InvalidStart",
    "LegacyEvent",
    "LegacyMessageType",
    "LegacyServerProtocol",
    "Message",
    "MessageType",
    "Next",
    "NextReceived",
    "Output",
    "Ping",
    "PingReceived",
    "Pong",
    "PongReceived",
    "ServerCompleteReceived",
    "ServerProtocol",
    "State",
    "Subscribe",
    "SubscribePayload",
    "SubscribeReceived",
    "complete_frame",
    "encode_message",
    "error_frame",
    "next_frame",
    "parse_legacy_message",
    "parse_message",
]
