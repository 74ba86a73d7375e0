"""The demo site (`DemoSite`) served by uvicorn on a loopback port, with or without the ASGI lifespan (which runs
the simulation: off keeps every value still unless a test changes it)."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn

from livegql.demo import DemoSite

STOP_TIMEOUT = 10.0


@contextmanager
def serve_demo(site: DemoSite, lifespan: Literal["on", "off"] = "off") -> Iterator[int]:
    """Serve `site` on 127.0.0.1 and yield its port. The socket listens before uvicorn starts, so a client may
    connect at once: it waits in the backlog, and nothing needs to wait for a start."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    config = uvicorn.Config(site, log_level="warning", lifespan=lifespan, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        listener.close()
        assert not thread.is_alive(), "the demo server did not stop"
