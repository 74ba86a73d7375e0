"""Reading a GraphQL-over-HTTP request's parameters, within the body limit: shared by every HTTP transport."""

from http import HTTPStatus

from starlette.requests import ClientDisconnect, Request

from livegql.protocol.http import (
    BadRequest,
    GraphQLParams,
    body_too_large,
    params_from_body,
    params_from_query_string,
)


async def read_params(request: Request, max_body_bytes: int) -> GraphQLParams:
    """GET: from the query string; anything else: from the JSON body. Raises BadRequest (400, 413, 415)."""
    if request.method == "GET":
        return params_from_query_string(request.query_params)
    body = await read_body(request, max_body_bytes)
    return params_from_body(request.headers.get("content-type"), body)


async def read_body(request: Request, limit: int) -> bytes:
    """Read at most `limit` bytes: a declared Content-Length is checked first, chunked bodies as they come."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise body_too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise body_too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "Client disconnected before the body arrived") from None
    return b"".join(chunks)
