"""Failover between a client's URLs: which to try in what order, and one round that opens the first that answers."""

import asyncio
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from livegql.client.backoff import Backoff
from livegql.client.errors import ClientConnectionError
from livegql.client.session import Session, is_fatal, open_session
from livegql.core.errors import ClientError

logger = logging.getLogger("livegql.client")


class Endpoints:
    """The URLs of one server cluster, validated; each round starts with the one that last worked."""

    def __init__(self, url: str | Sequence[str]) -> None:
        urls = (url,) if isinstance(url, str) else tuple(url)
        if not urls:
            raise ValueError("Client needs at least one ws:// or wss:// URL")
        for each in urls:
            if not isinstance(each, str) or urlsplit(each).scheme not in ("ws", "wss"):
                raise ValueError(f"Client needs a ws:// or wss:// URL, not {each!r}")
        self.urls: tuple[str, ...] = urls
        self._preferred = 0  # index of the URL that last acknowledged (the first one until then)

    def describe(self) -> str:
        return ", ".join(self.urls)

    async def open(self, params: dict[str, Any] | None, limit: float) -> Session:
        """Try each URL in turn (`limit` seconds each) until one acknowledges.

        A close that retrying cannot fix (4403, ...) is raised at once: that server answered, and refused us,
        so asking its siblings would only repeat the refusal. Otherwise, when none answers, the one failure
        (one URL) or a ClientConnectionError naming every failure.
        """
        failures: list[tuple[str, ClientError]] = []
        for index in self._order():
            url = self.urls[index]
            try:
                session = await open_session(url, params, limit)
            except ClientError as error:
                if is_fatal(error):
                    raise
                failures.append((url, error))
                continue
            self._preferred = index
            return session
        if len(failures) == 1:
            raise failures[0][1]
        reasons = "; ".join(f"{url}: {error}" for url, error in failures)
        raise ClientConnectionError(f"no URL answered ({reasons})") from failures[-1][1]

    async def reopen(self, params: dict[str, Any] | None, limit: float, backoff: Backoff) -> Session:
        """Back off, then try every URL (the last one that worked first); again, until allowed no more."""
        last: ClientError | None = None
        for attempt, delay in enumerate(backoff.delays(), start=1):
            await asyncio.sleep(delay)
            try:
                return await self.open(params, limit)
            except ClientError as error:
                if is_fatal(error):
                    raise
                logger.info("reconnection attempt %d failed: %s", attempt, error)
                last = error
        raise ClientConnectionError(f"gave up reconnecting to {self.describe()}: {last or 'no attempts allowed'}")

    def _order(self) -> list[int]:
        preferred = self._preferred
        return [preferred, *(index for index in range(len(self.urls)) if index != preferred)]
