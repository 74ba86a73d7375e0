"""GraphQL over HTTP as pure functions: request parameters, media type negotiation, status codes.

Follows the GraphQL-over-HTTP spec: `application/graphql-response+json` uses 4xx for request errors,
legacy `application/json` answers every well-formed GraphQL request with 200.
"""

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from http import HTTPStatus
from typing import Any

from livegql.core import json
from livegql.core.limits import exceeds_bytes, query_too_large_message

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
ALLOWED_METHODS = ("GET", "POST")
ALLOW_HEADER = ", ".join(ALLOWED_METHODS)

# RFC 7231 section 5.3.1: a qvalue is 0 to 1 with at most three decimals.
_QVALUE = re.compile(r"(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)")


class MediaType(StrEnum):
    GRAPHQL_RESPONSE = GRAPHQL_RESPONSE_JSON
    JSON = APPLICATION_JSON


class _Specificity(IntEnum):
    """How closely an Accept media range names a type; the most specific matching range decides (RFC 7231)."""

    ANY = 1  # */*
    SUBTYPES = 2  # application/*
    EXACT = 3


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


class BadRequest(Exception):
    """Not a well-formed GraphQL-over-HTTP request: answered with `status` and one GraphQL error.

    `allow` is the Allow header value a 405 must carry.
    """

    def __init__(self, status: HTTPStatus, message: str, *, allow: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.allow = allow


def check_method(method: str) -> None:
    """Only GET and POST carry GraphQL requests (spec: Request); anything else is 405 with Allow."""
    if method not in ALLOWED_METHODS:
        raise BadRequest(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"Method {method} is not allowed; use GET or POST",
            allow=ALLOW_HEADER,
        )


def mutation_over_get() -> BadRequest:
    """Spec, GET: a mutation selected over GET is answered with 405 and not executed."""
    return BadRequest(HTTPStatus.METHOD_NOT_ALLOWED, "Mutations cannot be sent with GET; use POST", allow="POST")


def not_acceptable() -> BadRequest:
    return BadRequest(HTTPStatus.NOT_ACCEPTABLE, "Accept must allow " + " or ".join(MediaType))


_CACHED_ACCEPT_CHARS = 256  # a client sends the same few Accept values; an odd long one is not cached


def negotiate(accept: str | None) -> MediaType | None:
    """The response media type for an Accept header (see `_negotiate`); memoised, as every request asks."""
    if accept is not None and len(accept) <= _CACHED_ACCEPT_CHARS:
        return _negotiate_cached(accept)
    return _negotiate(accept)


def _negotiate(accept: str | None) -> MediaType | None:
    """Pick the response media type from an Accept header; None means nothing acceptable (406).

    A missing header means application/json (the spec's legacy rule). The most specific matching range
    sets a type's quality, so `application/json;q=0, */*` refuses JSON. Among equal qualities an exact
    mention wins over a wildcard; two exact mentions favour graphql-response+json; a bare wildcard gets
    application/json, which is what legacy clients (curl's `*/*`) expect.
    """
    if accept is None or not accept.strip():
        return MediaType.JSON
    ranges = _parse_accept(accept)
    best: MediaType | None = None
    best_key: tuple[float, int, bool] | None = None
    for media in MediaType:
        match = _quality(media, ranges)
        if match is None or match[1] <= 0:
            continue
        specificity, quality = match
        preferred = media is (MediaType.GRAPHQL_RESPONSE if specificity is _Specificity.EXACT else MediaType.JSON)
        key = (quality, int(specificity), preferred)
        if best_key is None or key > best_key:
            best, best_key = media, key
    return best


_negotiate_cached = functools.lru_cache(maxsize=64)(_negotiate)


def _parse_accept(accept: str) -> list[tuple[str, str, float]]:
    """(type, subtype, quality) for each well-formed media range; a malformed range says nothing."""
    ranges = []
    for part in accept.split(","):
        media_range, *parameters = part.split(";")
        kind, slash, subtype = media_range.strip().lower().partition("/")
        if not slash or not kind or not subtype:
            continue
        quality: float | None = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                quality = float(value) if _QVALUE.fullmatch(value) else None
                break  # parameters after q are accept-extensions
        if quality is not None:
            ranges.append((kind, subtype, quality))
    return ranges


def _quality(media: MediaType, ranges: list[tuple[str, str, float]]) -> tuple[_Specificity, float] | None:
    kind, _, subtype = media.value.partition("/")
    found: tuple[_Specificity, float] | None = None
    for range_kind, range_subtype, quality in ranges:
        if (range_kind, range_subtype) == (kind, subtype):
            specificity = _Specificity.EXACT
        elif (range_kind, range_subtype) == (kind, "*"):
            specificity = _Specificity.SUBTYPES
        elif (range_kind, range_subtype) == ("*", "*"):
            specificity = _Specificity.ANY
        else:
            continue
        if found is None or (specificity, quality) > found:
            found = (specificity, quality)
    return found


def prefers_over_json(accept: str, media_type: str) -> bool:
    """Whether Accept ranks `media_type` (named exactly) above every JSON response type: by quality, then by
    order of mention. A client listing JSON first (`application/json, text/event-stream`) wants JSON where
    JSON can answer, and the other type only where it cannot (a subscription)."""
    kind, _, subtype = media_type.partition("/")
    wanted: tuple[float, int] | None = None
    json_rank: tuple[float, int] | None = None
    for index, (range_kind, range_subtype, quality) in enumerate(_parse_accept(accept)):
        rank = (quality, -index)
        if (range_kind, range_subtype) == (kind, subtype) and (wanted is None or rank > wanted):
            wanted = rank
        if any(_quality(media, [(range_kind, range_subtype, quality)]) for media in MediaType):
            json_rank = rank if json_rank is None or rank > json_rank else json_rank
    return wanted is not None and wanted[0] > 0 and (json_rank is None or wanted > json_rank)


def params_from_query_string(query_params: Mapping[str, str]) -> GraphQLParams:
    """GET: `query`, `operationName`, and JSON-encoded `variables` and `extensions`."""
    return _params(
        query=query_params.get("query"),
        variables=_decode_json_param(query_params.get("variables"), "variables"),
        operation_name=query_params.get("operationName"),
        extensions=_decode_json_param(query_params.get("extensions"), "extensions"),
    )


def params_from_body(content_type: str | None, body: bytes) -> GraphQLParams:
    """POST: the body must be a UTF-8 JSON object; raises BadRequest (400/415) otherwise."""
    _check_content_type(content_type)
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "Request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "Request body must be a JSON object")
    return _params(
        query=document.get("query"),
        variables=document.get("variables"),
        operation_name=document.get("operationName"),
        extensions=document.get("extensions"),
    )


def _check_content_type(content_type: str | None) -> None:
    """Spec, POST: application/json is required (a missing header is refused too); UTF-8 is assumed."""
    media, *parameters = (content_type or "").split(";")
    if media.strip().lower() != APPLICATION_JSON:
        raise BadRequest(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise BadRequest(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "The request body must be UTF-8")


def _decode_json_param(raw: str | None, name: str) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"'{name}' is not valid JSON") from None


def _params(query: Any, variables: Any, operation_name: Any, extensions: Any) -> GraphQLParams:
    """Spec, Request Parameters: a null optional parameter is the same as an absent one.

    An empty `query` is refused here, though the spec would let it fail to parse: nothing can be meant by it.
    """
    if not isinstance(query, str) or not query:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "'query' must be a non-empty string")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "'variables' must be an object")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "'operationName' must be a string")
    if extensions is not None and not isinstance(extensions, dict):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "'extensions' must be an object")
    # Spec, GET: an empty operationName is the same as none.
    return GraphQLParams(query, variables, operation_name or None, extensions)


def check_query_size(query: str, limit: int) -> None:
    """Refuse query text over `limit` UTF-8 bytes before it is parsed."""
    if exceeds_bytes(query, limit):
        raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, query_too_large_message(limit))


def body_too_large(limit: int) -> BadRequest:
    return BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"Request body exceeds {limit} bytes")


def request_error_status(media: MediaType) -> HTTPStatus:
    """Status for a document that does not parse or validate, or whose variables do not coerce."""
    return HTTPStatus.BAD_REQUEST if media is MediaType.GRAPHQL_RESPONSE else HTTPStatus.OK


def content_type(media: MediaType) -> str:
    return f"{media.value}; charset=utf-8"


def error_body(message: str) -> bytes:
    """A GraphQL response with one error and no `data` entry (the request never executed)."""
    return json.dumps_bytes({"errors": [{"message": message}]})
