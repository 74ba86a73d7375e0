"""`HTTPClient`: queries and mutations over GraphQL over HTTP (POST, JSON) with httpx."""

from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlsplit

import httpx

from livegql.client.errors import ClientConnectionError
from livegql.client.results import data_of
from livegql.client.session import address_of, connect_reason
from livegql.core import json
from livegql.core.errors import ClientError

# The spec's media type first: its 4xx answers for invalid requests still carry the GraphQL errors.
ACCEPT: Final = "application/graphql-response+json, application/json;q=0.9"


class HTTPClient:
    """POSTs operations to one GraphQL endpoint; use as `async with HTTPClient(url) as client:`."""

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"HTTPClient needs an http:// or https:// URL, not {url!r}")
        self.url = url
        self._timeout = timeout
        self._http = httpx.AsyncClient(headers=headers, timeout=timeout, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run a query or mutation; its `data`, or ClientError when the result has errors or it fails."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if operation_name is not None:
            body["operationName"] = operation_name
        headers = {"content-type": "application/json", "accept": ACCEPT}
        try:
            response = await self._http.post(self.url, content=json.dumps_bytes(body), headers=headers)
        except httpx.TimeoutException:
            raise ClientConnectionError(f"{self.url} did not answer within {self._timeout:g}s") from None
        except httpx.ConnectError as error:
            reason = connect_reason(error)
            raise ClientConnectionError(f"cannot connect to {address_of(self.url)}: {reason}") from error
        except httpx.HTTPError as error:
            raise ClientError(f"request to {self.url} failed: {error}") from error
        return data_of(_result(response))


def _result(response: httpx.Response) -> dict[str, Any]:
    """The GraphQL result in the body, whatever the status; ClientError when there is none."""
    try:
        result = json.loads(response.content)
    except json.JSONDecodeError:
        result = None
    if isinstance(result, dict) and ("data" in result or "errors" in result):
        return result
    if response.is_success:
        raise ClientError(f"{response.url} answered with something other than a GraphQL result")
    raise ClientError(f"{response.url} answered HTTP {response.status_code} {response.reason_phrase}")
