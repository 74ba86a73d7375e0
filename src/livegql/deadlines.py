"""A first-request deadline for uvicorn's HTTP connections, against slowloris.

uvicorn times out an idle keep-alive connection only after a response: a client that connects and then sends
its request head a byte at a time (or never) holds a socket, a protocol object and a file descriptor for as
long as it likes, and a few thousand such clients exhaust a server. Here the connection must deliver its first
complete request head (HTTP, or the WebSocket upgrade request) within the deadline, or it is closed.
WebSocket clients then have `connection_init_wait_timeout` for their first message (the protocols' own 4408).
"""

import asyncio
import logging
import os
from typing import Any

try:  # uvicorn's default HTTP implementation when httptools is installed (it is, with uvicorn[standard])
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _DefaultHTTP
except ImportError:  # pragma: no cover - the pure-Python fallback uvicorn also uses
    from uvicorn.protocols.http.h11_impl import H11Protocol as _DefaultHTTP  # type: ignore[assignment]

logger = logging.getLogger("uvicorn.error")

DEFAULT_FIRST_REQUEST_TIMEOUT = 10.0


TIMEOUT_ENV = "LIVEGQL_FIRST_REQUEST_TIMEOUT"
"""How `livegql serve` hands the deadline to its worker processes: they are spawned and import this afresh."""


def set_first_request_timeout(seconds: float) -> None:
    """The deadline for this process's connections and those of the workers it starts."""
    os.environ[TIMEOUT_ENV] = str(seconds)
    FirstRequestDeadline.seconds = seconds


class FirstRequestDeadline(_DefaultHTTP):
    """uvicorn's HTTP protocol, closing a connection whose first request head is not complete in time.

    A class at module level, not made per call: uvicorn pickles its config into worker processes.
    """

    seconds = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_FIRST_REQUEST_TIMEOUT)
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._deadline = self.loop.call_later(self.seconds, self._first_request_overdue)

    def on_headers_complete(self) -> None:
        # The first head is in (a request, or a WebSocket upgrade): the deadline has nothing left to guard, and a
        # pending timer would keep this protocol object, about 5 KiB, alive after an upgrade for its full term.
        self._cancel_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _first_request_overdue(self) -> None:
        # uvicorn sets `cycle` once a request head is complete; an upgrade hands the transport to the WebSocket
        # protocol, whose own handshake and init timers then apply.
        if self.cycle is not None or self.transport.get_protocol() is not self or self.transport.is_closing():
            return
        logger.info("Closing a connection that sent no complete request within %.1f s", self.seconds)
        self.transport.close()
