"""What the results were measured on: CPU, memory, Python, Node and the versions of everything under test."""

import os
import platform
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
]
NODE_PACKAGES = ["graphql", "graphql-ws", "ws"]


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
