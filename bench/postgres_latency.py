"""Latency from an UPDATE committed by another writer to the live-query client holding the new result.

`python -m bench.postgres_latency [--dsn URL] [--updates 100] [--window 0.05] [--max-rate 20]`: a `LiveGQL` app
whose live query reads a PostgreSQL table (on one connection kept open), fed by `PostgresSource`; a plain psycopg
connection updates one row `--updates` times, each time waiting for the WebSocket client to receive the result
with the new text, timed from the writer's commit acknowledgement. Server, client and writer share one event loop
(one process, like a small deployment's single worker). Uses a schema of its own, dropped afterwards.
"""

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

import psycopg
import uvicorn
import websockets
from graphql import GraphQLResolveInfo
from psycopg import sql
from websockets.typing import Subprotocol

from livegql import LiveGQL, PubSub
from livegql.core import json
from livegql.postgres import PostgresSource, TableMapping

SDL = "type Row { id: ID!, text: String! } type Query { row(id: ID!): Row }"
QUERY = "query @live { row(id: 1) { id text } }"


def app_for(
    reader: psycopg.AsyncConnection[Any], table: sql.Identifier, pubsub: PubSub, window: float, max_rate: float
) -> LiveGQL:
    async def row(_: Any, __: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        statement = sql.SQL("SELECT id, text FROM {} WHERE id = %s").format(table)
        found = await (await reader.execute(statement, (int(id),))).fetchone()
        return None if found is None else {"id": found[0], "text": found[1]}

    return LiveGQL(
        SDL,
        resolvers={"Query": {"row": row}},
        pubsub=pubsub,
        live_coalesce_window=window,
        live_max_executions_per_second=max_rate,
    )


async def measure(dsn: str, updates: int, window: float, max_rate: float) -> dict[str, float]:
    schema = f"livegql_bench_{uuid.uuid4().hex}"
    table = sql.Identifier(schema, "rows")
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as writer:
        await writer.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            await writer.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, text text)").format(table))
            await writer.execute(sql.SQL("INSERT INTO {} VALUES (1, 'start')").format(table))
            return await _run(dsn, schema, table, writer, updates=updates, window=window, max_rate=max_rate)
        finally:
            await writer.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


async def _run(
    dsn: str,
    schema: str,
    table: sql.Identifier,
    writer: psycopg.AsyncConnection[Any],
    *,
    updates: int,
    window: float,
    max_rate: float,
) -> dict[str, float]:
    pubsub = PubSub()
    mapping = TableMapping("rows", schema=schema, keys=lambda row: [f"Row:{row['id']}"])
    source = PostgresSource(dsn, pubsub, [mapping], name=f"lg_{schema[-32:]}", schema=schema)
    await source.install()
    reader = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    app = app_for(reader, table, pubsub, window, max_rate)
    server = uvicorn.Server(uvicorn.Config(app, port=0, log_level="warning"))
    serving = asyncio.ensure_future(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110  uvicorn offers no started event, only this flag
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with (
            source,
            websockets.connect(
                f"ws://127.0.0.1:{port}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
            ) as ws,
        ):
            await ws.send(json.dumps({"type": "connection_init"}))
            await ws.recv()
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
            await ws.recv()
            return await _updates(ws, writer, table, updates)
    finally:
        server.should_exit = True
        await serving
        await source.uninstall()
        await pubsub.close()
        await reader.close()


async def _updates(
    ws: Any, writer: psycopg.AsyncConnection[Any], table: sql.Identifier, updates: int
) -> dict[str, float]:
    latencies: list[float] = []
    for number in range(updates):
        text = f"v{number}"
        await writer.execute(sql.SQL("UPDATE {} SET text = %s WHERE id = 1").format(table), (text,))
        committed = time.perf_counter()  # autocommit: the UPDATE's commit is acknowledged when execute returns
        async with asyncio.timeout(10):
            while json.loads(await ws.recv())["payload"]["data"]["row"]["text"] != text:
                pass
        latencies.append((time.perf_counter() - committed) * 1000)
    latencies.sort()
    return {
        "updates": updates,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, round(len(latencies) * 0.99))],
        "max_ms": latencies[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--window", type=float, default=0.05, help="live_coalesce_window (livegql's default 0.05)")
    parser.add_argument(
        "--max-rate", type=float, default=20.0, help="live_max_executions_per_second (livegql's default 20)"
    )
    arguments = parser.parse_args()
    result = asyncio.run(measure(arguments.dsn, arguments.updates, arguments.window, arguments.max_rate))
    print(json.dumps({"window_s": arguments.window, "max_rate": arguments.max_rate, **result}))


if __name__ == "__main__":
    main()
