"""The HTTP endpoint's own cost per request, without sockets: a `{ hello }` POST through the whole ASGI app,
called directly, timed in batches after a warm-up. Steadier than the socket bench for changes of a few µs.

    taskset -c 1 .venv/bin/python -m bench.http_in_process        # run it beside an older checkout to compare
"""

import asyncio
import statistics
import time
from collections.abc import MutableMapping
from typing import Any

from livegql import LiveGQL

BODY = b'{"query":"{ hello }"}'
SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "POST",
    "path": "/graphql",
    "root_path": "",
    "query_string": b"",
    "headers": [
        (b"content-type", b"application/json"),
        (b"accept", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
    ],
    "http_version": "1.1",
    "scheme": "http",
    "server": ("127.0.0.1", 80),
    "client": ("127.0.0.1", 1),
}
WARMUP, BATCHES, PER_BATCH = 2000, 5, 10_000


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": BODY, "more_body": False}


async def send(_message: MutableMapping[str, Any]) -> None:
    return None


async def measure() -> list[float]:
    """µs per request of each batch."""
    app = LiveGQL("type Query { hello: String! }", resolvers={"Query": {"hello": lambda *_: "world"}})
    for _ in range(WARMUP):
        await app(SCOPE, receive, send)
    batches = []
    for _ in range(BATCHES):
        started = time.perf_counter()
        for _ in range(PER_BATCH):
            await app(SCOPE, receive, send)
        batches.append((time.perf_counter() - started) / PER_BATCH * 1e6)
    return batches


def main() -> None:
    batches = asyncio.run(measure())
    print(f"{{ hello }} through the ASGI app: min {min(batches):.1f} µs, median {statistics.median(batches):.1f} µs")


if __name__ == "__main__":
    main()
