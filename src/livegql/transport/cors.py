"""CORS for the HTTP endpoint (`Settings.cors_allow_origins`): Starlette's middleware, wrapped around the
endpoint only when origins are configured, so an app without CORS pays nothing for it."""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from livegql.core.config import Settings
from livegql.transport.csrf import PREFLIGHT_HEADERS
from livegql.transport.sse_single import TOKEN_HEADER

CORS_METHODS = ("GET", "POST", "PUT", "DELETE", "OPTIONS")
CORS_HEADERS = ("content-type", "authorization", "accept", "last-event-id", TOKEN_HEADER, *PREFLIGHT_HEADERS)


def with_cors(endpoint: ASGIApp, settings: Settings) -> ASGIApp:
    """`endpoint` answering CORS preflights and adding CORS headers for `cors_allow_origins`; itself if none."""
    if not settings.cors_allow_origins:
        return endpoint
    return CORSMiddleware(
        endpoint,
        allow_origins=settings.cors_allow_origins,
        allow_methods=CORS_METHODS,
        allow_headers=CORS_HEADERS,
        allow_credentials=settings.cors_allow_credentials,
    )
