"""`livegql serve` as a real child process: started on an ephemeral port, read back from its first line,
killed however the test ends. For tests that need several processes or must SIGKILL one."""

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
_ADDRESS = re.compile(r"http://(\S+?)(/\S*)?$")


class ServerProcess:
    """One `livegql serve` process; `url`/`ws_url` once started, `kill()` for the SIGKILL fault."""

    def __init__(self, process: subprocess.Popen[str], address: str, path: str) -> None:
        self.process = process
        self.address = address
        self.path = path or "/graphql"

    @property
    def http_url(self) -> str:
        return f"http://{self.address}{self.path}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.address}{self.path}"

    def kill(self) -> None:
        """SIGKILL: no shutdown, no close frames; the kernel resets its sockets."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _first_address(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Read stdout until the "serving ... at http://host:port/path" line (bounded), then drain it."""
    found: list[tuple[str, str]] = []
    ready = threading.Event()
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            match = _ADDRESS.search(line.strip())
            if match and not found:
                found.append((match.group(1), match.group(2) or ""))
                ready.set()
        ready.set()  # EOF: the process ended before serving

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(START_TIMEOUT) or not found:
        raise RuntimeError(f"livegql serve did not start (exit code {process.poll()})")
    return found[0]


@contextmanager
def serve_process(
    target: str, *args: str, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[ServerProcess]:
    """`python -m livegql serve TARGET --port 0 ARGS...` from the project root; stopped on exit. With `log`, its
    stderr (uvicorn's and livegql's log lines, one per connection at info level) goes to that file."""
    command: Sequence[str] = [sys.executable, "-m", "livegql", "serve", target, "--port", "0", *args]
    stderr = log.open("w") if log is not None else None
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,  # a Ctrl-C of the test run reaches it only through us
    )
    try:
        address, path = _first_address(process)
        yield ServerProcess(process, address, path)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if stderr is not None:
            stderr.close()
