"""Finding Node.js and the interop project's npm packages: skip without them, except in CI, where that fails."""

import asyncio
import os
import shutil
from asyncio.subprocess import PIPE, Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

NODE_PROJECT = Path(__file__).parent / "node"


def require_node(packages: tuple[str, ...], what: str) -> str:
    """The `node` executable, once `packages` are installed in tests/interop/node; `what` names the tests."""
    executable = shutil.which("node")
    missing = []
    if executable is None:
        missing.append("`node` is not on PATH")
    absent = [name for name in packages if not (NODE_PROJECT / "node_modules" / name).is_dir()]
    if absent:
        missing.append(
            f"tests/interop/node/node_modules lacks {', '.join(absent)} (run `npm ci --prefix tests/interop/node`)"
        )
    if missing or executable is None:
        reason = "; ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the {what}, but {reason}")
        pytest.skip(reason)
    return executable


@asynccontextmanager
async def run_script(node: str, script: Path, *args: str) -> AsyncIterator[Process]:
    """Start a Node script of the interop project with piped stdio; killed on exit if it is still running."""
    process = await asyncio.create_subprocess_exec(
        node, str(script), *args, stdin=PIPE, stdout=PIPE, stderr=PIPE, cwd=NODE_PROJECT
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
