"""The demo site (`DemoSite`) served by uvicorn on a loopback port, with or without the ASGI lifespan (which runs
the simulation: off keeps every value still unless a test changes it)."""

from contextlib import AbstractContextManager
from typing import Literal

from livegql.demo import DemoSite
from tests.support.server import serve_asgi


def serve_demo(site: DemoSite, lifespan: Literal["on", "off"] = "off") -> AbstractContextManager[int]:
    """Serve `site` on 127.0.0.1; the context yields its port."""
    return serve_asgi(site, lifespan)
