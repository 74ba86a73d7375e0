"""What the results were measured on (CPU, memory, Python, Node, the versions of everything under test), and
which CPU the server and the load generator are pinned to.
"""

import contextlib
import os
import platform
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

import orjson

from bench.servers import NODE_DIR, node_version

PYTHON_PACKAGES = [
    "livegql",
    "graphql-core",
    "strawberry-graphql",
    "ariadne",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "websockets",
    "orjson",
    "redis",  # redis-py and its parser: the Redis broker's client (the fanout-redis scenario)
    "hiredis",
]
NODE_PACKAGES = [
    "graphql",
    "graphql-ws",
    "ws",
    "mercurius",
    "fastify",
    "graphql-yoga",
    "@envelop/live-query",
    "@n1ru4l/in-memory-live-query-store",
]


@dataclass(frozen=True)
class Pinning:
    """The CPUs of the server and of the load generator; None for both when they share whatever is available."""

    server_cpus: tuple[int, ...] | None
    load_cpus: tuple[int, ...] | None
    note: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def pinning_plan(enabled: bool = True) -> Pinning:
    """With two CPUs or more: the server on the first we may use, the load generator on the second."""
    available = sorted(os.sched_getaffinity(0))
    if not enabled:
        return Pinning(None, None, "not pinned (--no-pin)")
    if len(available) < 2:
        return Pinning(None, None, f"not pinned: only {len(available)} CPU available")
    server, load = (available[0],), (available[1],)
    return Pinning(server, load, f"server on CPU {server[0]}, load generator on CPU {load[0]}")


@contextlib.contextmanager
def children_pinned(cpus: tuple[int, ...] | None) -> Iterator[None]:
    """Pin this process to `cpus` for the block, so that every child started in it (and all the child's threads,
    from its first instruction) inherits that affinity; the previous affinity comes back afterwards."""
    if cpus is None:
        yield
        return
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)


def _cpu_model() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return 0.0


def _python_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _node_package_version(package: str) -> str | None:
    try:
        manifest = orjson.loads((NODE_DIR / "node_modules" / package / "package.json").read_bytes())
    except OSError:
        return None
    version: str | None = manifest.get("version")
    return version


def _uvicorn_auto() -> dict[str, str]:
    """What uvicorn's "auto" settings resolve to here (they depend on what is installed)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol
    from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    ws = AutoWebSocketsProtocol.__module__ if AutoWebSocketsProtocol is not None else "none"
    return {"loop": loop, "http": AutoHTTPProtocol.__module__, "ws": ws}


def describe() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gib": round(_ram_gib(), 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node_version(),
        "python_packages": {name: _python_version(name) for name in PYTHON_PACKAGES},
        "node_packages": {name: _node_package_version(name) for name in NODE_PACKAGES},
        "uvicorn_auto": _uvicorn_auto(),
    }
