"""The names of the protocol extensions an operation runner reads and writes: subscribe `extensions` entries,
the `connection_init` patch format, and the payload of the Ping that confirms a credentials refresh."""

PATCH_FORMATS = (True, "json-patch")
ACKNOWLEDGE_EXTENSION = "acknowledge"
"""Subscribe `extensions` entry (true) asking to be told, before any event, that the subscription is live."""
RESUME_EXTENSION = "resumeAfter"
"""Subscribe `extensions` entry: the last event position the client saw; missed events are replayed first."""

REFRESHED = "refreshed"
EXPIRES_AT = "expiresAt"
"""The server Ping's payload that confirms a refresh: `{"refreshed": true, "expiresAt": seconds or null}`."""
