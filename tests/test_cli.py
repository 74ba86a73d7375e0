"""The `livegql` command, run as `python -m livegql ...` subprocesses against live servers."""

import asyncio
import os
import re
import shlex
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from livegql.broker.pubsub import BROKER_URL_ENV
from livegql.client import HTTPClient
from livegql.core import json
from livegql.demo import create_app
from tests.client.support import closed_port, publish, wait_for_subscribers
from tests.support.server import LiveServer, serve

LIMIT = 20.0  # a subprocess starts a fresh interpreter; generous but bounded


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str


async def livegql(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Finished:
    process = await start(*args, cwd=cwd, env=env)
    async with asyncio.timeout(LIMIT):
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


async def start(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    pipe = asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "livegql", *args, cwd=cwd, env=env, stdout=pipe, stderr=pipe
    )


async def read_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    async with asyncio.timeout(LIMIT):
        line = await process.stdout.readline()
    assert line, "the process ended before printing the line"
    return line.decode().rstrip("\n")


async def interrupt(process: asyncio.subprocess.Process) -> Finished:
    """Ctrl-C, then wait for the exit."""
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(LIMIT):
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


def assert_one_error_line(finished: Finished, code: int, *fragments: str) -> None:
    assert finished.code == code, finished
    assert finished.stdout == ""
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr  # never a traceback
    assert lines[0].startswith("livegql: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


async def test_query_over_http_prints_the_result_with_json_and_text_variables(server: LiveServer) -> None:
    query = "query Q($n: String, $a: Int!) { hello(name: $n) add(a: $a, b: 1) }"
    finished = await livegql("query", server.http_url, query, "--var", "n=007", "--var", "a=41")
    assert (finished.code, finished.stderr) == (0, "")
    assert json.loads(finished.stdout) == {"data": {"hello": "Hello, 007!", "add": 42}}


async def test_query_over_websocket_prints_the_result(server: LiveServer) -> None:
    document = "query A { add(a: 1, b: 1) } query B { hello }"
    finished = await livegql("query", server.ws_url, document, "--operation-name", "B")
    assert (finished.code, finished.stderr) == (0, "")
    assert json.loads(finished.stdout) == {"data": {"hello": "Hello, world!"}}


async def test_subscribe_prints_one_json_line_per_event_until_the_server_completes(server: LiveServer) -> None:
    finished = await livegql("subscribe", server.http_url, "subscription { count(to: 3) }")  # http -> ws
    assert (finished.code, finished.stderr) == (0, "")
    assert finished.stdout.splitlines() == [json.dumps({"data": {"count": n}}) for n in (1, 2, 3)]


async def test_subscribe_prints_events_as_they_come_and_ctrl_c_exits_cleanly(server: LiveServer) -> None:
    process = await start(
        "subscribe", server.ws_url, "subscription T($t: String!) { topic(name: $t) }", "--var", "t=news"
    )
    try:
        await wait_for_subscribers(server, 1)
        await publish(server, "news", "one")
        assert await read_line(process) == '{"data":{"topic":"one"}}'
        await publish(server, "news", "two")
        assert await read_line(process) == '{"data":{"topic":"two"}}'
    finally:
        finished = await interrupt(process)
    assert (finished.code, finished.stderr, finished.stdout) == (0, "", "")
    await wait_for_subscribers(server, 0)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://127.0.0.1/graphql", "must start with http://"),
        ("not a url", "must start with http://"),
        ("http://127.0.0.1:99999/graphql", "malformed URL"),
        ("ws:///graphql", "no host"),
    ],
)
async def test_a_bad_url_exits_2(url: str, fragment: str) -> None:
    assert_one_error_line(await livegql("query", url, "{ hello }"), 2, fragment)


async def test_a_bad_url_for_subscribe_exits_2() -> None:
    assert_one_error_line(await livegql("subscribe", "mailto:ann", "subscription { x }"), 2, "mailto:ann")


@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_a_refused_connection_exits_1_naming_the_address(scheme: str) -> None:
    port = closed_port()
    finished = await livegql("query", f"{scheme}://127.0.0.1:{port}/graphql", "{ hello }")
    assert_one_error_line(finished, 1, f"127.0.0.1:{port}", "connection refused", "is the server running?")


async def test_a_refused_subscription_exits_1() -> None:
    port = closed_port()
    finished = await livegql("subscribe", f"ws://127.0.0.1:{port}/graphql", "subscription { x }")
    assert_one_error_line(finished, 1, f"127.0.0.1:{port}", "is the server running?")


@pytest.mark.parametrize("transport", ["http", "ws"])
async def test_graphql_errors_exit_1_and_are_printed(server: LiveServer, transport: str) -> None:
    url = server.http_url if transport == "http" else server.ws_url
    finished = await livegql("query", url, "{ nope }")
    assert_one_error_line(finished, 1, "Cannot query field 'nope' on type 'Query'.")


async def test_an_answer_that_is_not_graphql_exits_1(server: LiveServer) -> None:
    finished = await livegql("query", f"http://127.0.0.1:{server.port}/elsewhere", "{ hello }")
    assert_one_error_line(finished, 1, "answered HTTP 404 Not Found")


async def test_a_resolver_error_names_its_path(server: LiveServer) -> None:
    finished = await livegql("query", server.http_url, "{ boom }")
    assert_one_error_line(finished, 1, "Internal server error (at boom)")


async def test_a_subscription_error_exits_1(server: LiveServer) -> None:
    finished = await livegql("subscribe", server.ws_url, "subscription { failing }")
    assert finished.code == 1
    assert finished.stdout == '{"data":{"failing":1}}\n'
    assert finished.stderr == "livegql: error: Internal server error\n"


@pytest.mark.parametrize("var", ["novalue", "=5", " =x"])
async def test_an_invalid_var_exits_2(server: LiveServer, var: str) -> None:
    assert_one_error_line(await livegql("query", server.http_url, "{ hello }", "--var", var), 2, "--var")


SCHEMA_MODULE = """
from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, GraphQLString

hello = GraphQLField(GraphQLString, resolve=lambda *_: "from a schema")
schema = GraphQLSchema(GraphQLObjectType("Query", {"hello": hello}))
number = 5
"""


async def test_serve_wraps_a_schema_imported_from_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "chatapp.py").write_text(SCHEMA_MODULE)
    process = await start("serve", "chatapp:schema", "--port", "0", cwd=tmp_path)
    try:
        line = await read_line(process)
        match = re.fullmatch(r"livegql: serving chatapp:schema at (http://127\.0\.0\.1:\d+/graphql)", line)
        assert match is not None, line
        async with HTTPClient(match[1]) as client:
            assert await client.execute("{ hello }") == {"hello": "from a schema"}
    finally:
        finished = await interrupt(process)
    assert finished.code == 0
    assert "Traceback" not in finished.stderr


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("nosuchmodule:app", "cannot import module 'nosuchmodule'"),
        ("chatapp:nope", "has no attribute 'nope'"),
        ("chatapp:number", "not an ASGI app or a GraphQLSchema"),
        ("chatapp", "expected MODULE:ATTR"),
    ],
)
async def test_serve_with_a_bad_import_path_exits_2(tmp_path: Path, target: str, fragment: str) -> None:
    (tmp_path / "chatapp.py").write_text(SCHEMA_MODULE)
    assert_one_error_line(await livegql("serve", target, cwd=tmp_path), 2, fragment)


async def test_serve_on_a_busy_port_exits_1(server: LiveServer, tmp_path: Path) -> None:
    (tmp_path / "chatapp.py").write_text(SCHEMA_MODULE)
    finished = await livegql("serve", "chatapp:schema", "--port", str(server.port), cwd=tmp_path)
    assert_one_error_line(finished, 1, f"cannot listen on 127.0.0.1:{server.port}")


async def test_demo_prints_commands_that_work(tmp_path: Path) -> None:
    process = await start("demo", "--port", "0", "--db", str(tmp_path / "chat.db"))
    try:
        assert await read_line(process) == f"livegql demo: chat stored in {tmp_path / 'chat.db'}"
        watch, post = await read_line(process), await read_line(process)
        port = re.search(r"127\.0\.0\.1:(\d+)", watch)
        assert port is not None
        base = f"127.0.0.1:{port[1]}/graphql"
        assert watch == f"watch:  livegql subscribe ws://{base} 'subscription {{ messages {{ author text }} }}'"
        command = shlex.split(post.removeprefix("post:"))
        assert command[:2] == ["livegql", "query"]
        sent = await livegql(*command[1:])
        assert (sent.code, sent.stderr) == (0, "")
        assert json.loads(sent.stdout)["data"]["send"]["id"]
        history = await livegql("query", f"ws://{base}", "{ messages { author text } }")
        assert json.loads(history.stdout) == {"data": {"messages": [{"author": "ann", "text": "hi"}]}}
        live = shlex.split((await read_line(process)).removeprefix("live:"))
        assert live[:3] == ["livegql", "subscribe", f"ws://{base}"]
        assert "@live" in live[3]
        watcher = await start(*live[1:])
        try:
            assert json.loads(await read_line(watcher)) == history_of(("ann", "hi"))
        finally:
            assert (await interrupt(watcher)).code == 0
    finally:
        finished = await interrupt(process)
    assert finished.code == 0
    assert "Traceback" not in finished.stderr


SEND_TO_CLI = 'mutation($author: String!, $text: String!) { send(room: "cli", author: $author, text: $text) { id } }'


def history_of(*messages: tuple[str, str]) -> dict[str, Any]:
    return {"data": {"messages": [{"author": author, "text": text} for author, text in messages]}}


async def test_subscribe_prints_each_result_of_a_live_query(tmp_path: Path) -> None:
    query = 'query @live { messages(room: "cli", last: 2) { author text } }'
    printed: list[Any] = []
    with serve(create_app(str(tmp_path / "chat.db"))) as demo:
        process = await start("subscribe", demo.http_url, query)  # a query, not a subscription: still a stream
        try:
            # The first line is the current result; once it is out, the server watches the room for the query.
            printed.append(json.loads(await read_line(process)))
            async with HTTPClient(demo.http_url) as http:
                for author, text in [("ann", "one"), ("bob", "two"), ("cy", "three")]:
                    await http.execute(SEND_TO_CLI, {"author": author, "text": text})
                    printed.append(json.loads(await read_line(process)))  # each update before the next send
        finally:
            finished = await interrupt(process)
    assert (finished.code, finished.stderr, finished.stdout) == (0, "", "")
    assert printed == [
        history_of(),
        history_of(("ann", "one")),
        history_of(("ann", "one"), ("bob", "two")),
        history_of(("bob", "two"), ("cy", "three")),  # `last: 2`: the window slid
    ]


async def test_demo_with_an_unusable_database_exits_1(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    finished = await livegql("demo", "--port", "0", "--db", str(tmp_path / "file" / "chat.db"))
    assert_one_error_line(finished, 1, "cannot open the demo database")


async def test_serve_with_reload_imports_the_target_in_the_worker(tmp_path: Path) -> None:
    (tmp_path / "chatapp.py").write_text(SCHEMA_MODULE)
    port = closed_port()
    process = await start("serve", "chatapp:schema", "--reload", "--port", str(port), cwd=tmp_path)
    try:
        assert process.stderr is not None
        async with asyncio.timeout(LIMIT):
            while True:
                line = await process.stderr.readline()
                assert line, "the server exited before it started"
                if b"Application startup complete" in line:
                    break
        async with HTTPClient(f"http://127.0.0.1:{port}/graphql") as client:
            assert await client.execute("{ hello }") == {"hello": "from a schema"}
    finally:
        finished = await interrupt(process)
    assert finished.code == 0
    assert "Traceback" not in finished.stderr


# --- serve --broker / --workers: usage errors are found before a port is bound --------------------------

OWN_PUBSUB_MODULE = """
from livegql import LiveGQL, PubSub

app = LiveGQL("type Query { hello: String }", pubsub=PubSub())
"""


def without_broker_env(**extra: str) -> dict[str, str]:
    """This environment minus a broker URL the developer or CI may have set, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if name != BROKER_URL_ENV}
    return env | extra


@pytest.mark.parametrize(
    ("args", "env", "fragments"),
    [
        (["--broker", "nosuch://host"], {}, ["invalid --broker URL 'nosuch://host'", "memory:// or redis://"]),
        (["--broker", "memory://?retention_count=many"], {}, ["invalid --broker URL", "not a number"]),
        (["--workers", "0"], {}, ["--workers must be at least 1"]),
        (["--workers", "2", "--reload"], {}, ["--workers and --reload cannot be combined"]),
        (["--workers", "2"], {}, ["--workers 2 needs a shared broker", "use --broker redis://"]),
        (["--workers", "2", "--broker", "memory://"], {}, ["needs a shared broker", "other workers"]),
        (["--workers", "3"], {BROKER_URL_ENV: "memory://"}, ["--workers 3 needs a shared broker"]),
        ([], {BROKER_URL_ENV: "nosuch://host"}, [f"invalid ${BROKER_URL_ENV} URL 'nosuch://host'"]),
    ],
)
async def test_serve_usage_errors_exit_2_with_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], fragments: list[str]
) -> None:
    (tmp_path / "chatapp.py").write_text(SCHEMA_MODULE)
    finished = await livegql("serve", "chatapp:schema", *args, cwd=tmp_path, env=without_broker_env(**env))
    assert_one_error_line(finished, 2, *fragments)


async def test_serve_with_a_broker_for_an_app_that_has_its_own_pubsub_exits_2(tmp_path: Path) -> None:
    (tmp_path / "ownapp.py").write_text(OWN_PUBSUB_MODULE)
    finished = await livegql("serve", "ownapp:app", "--broker", "memory://", cwd=tmp_path)
    assert_one_error_line(finished, 2, "--broker has no effect", "ownapp:app was given its own pubsub=")


BROKER_MODULE = """
from graphql import GraphQLField, GraphQLInt, GraphQLObjectType, GraphQLSchema

from livegql import LiveGQL

def max_queue(_root, info):
    return info.context["pubsub"].backend.max_queue

app = LiveGQL(GraphQLSchema(GraphQLObjectType("Query", {"maxQueue": GraphQLField(GraphQLInt, resolve=max_queue)})))
"""


async def test_serve_with_a_broker_gives_it_to_the_app_and_health_reports_it(tmp_path: Path) -> None:
    (tmp_path / "brokerapp.py").write_text(BROKER_MODULE)
    process = await start(
        "serve",
        "brokerapp:app",
        "--port",
        "0",
        "--broker",
        "memory://?max_queue=7",
        cwd=tmp_path,
        env=without_broker_env(),
    )
    try:
        match = re.fullmatch(r"livegql: serving brokerapp:app at (http://[\d.:]+)/graphql", await read_line(process))
        assert match is not None
        async with HTTPClient(f"{match[1]}/graphql") as client:
            assert await client.execute("{ maxQueue }") == {"maxQueue": 7}
        async with httpx.AsyncClient(timeout=LIMIT) as http:
            health = await http.get(f"{match[1]}/health")
        assert (health.status_code, health.json()) == (200, {"status": "ok", "broker": "up"})
    finally:
        finished = await interrupt(process)
    assert finished.code == 0
    assert "Traceback" not in finished.stderr


async def test_ctrl_c_ends_a_server_whose_event_streams_are_still_open(tmp_path: Path) -> None:
    # An SSE stream never ends by itself: without a bound on the graceful shutdown, the server would wait for
    # its client forever.
    process = await start("demo", "--port", "0", "--db", str(tmp_path / "chat.db"))
    try:
        await read_line(process)
        port = re.search(r"127\.0\.0\.1:(\d+)", await read_line(process))
        assert port is not None
        url = f"http://127.0.0.1:{port[1]}/graphql"
        body = {"query": "subscription { messages { text } }"}
        headers = {"accept": "text/event-stream"}
        async with (
            httpx.AsyncClient(timeout=LIMIT) as client,
            client.stream("POST", url, json=body, headers=headers) as stream,
        ):
            assert stream.status_code == httpx.codes.OK
            lines = stream.aiter_lines()
            assert await anext(lines) == ":"  # the stream is open
            finished = await interrupt(process)
            rest = [line async for line in lines]  # ends: the server closed it
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert finished.code == 0
    assert "event: complete" not in rest  # ended by the shutdown, not completed: clients reconnect
