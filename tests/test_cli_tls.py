"""TLS from the command line: `livegql demo --self-signed` serves https:// and wss:// with a certificate for
localhost that it makes once and reuses, the printed commands (which trust it through SSL_CERT_FILE) work as
printed, and `serve --ssl-certfile/--ssl-keyfile` serves given files. A client that does not trust the
certificate is refused: the TLS is real."""

import os
import re
import shlex
import ssl
from pathlib import Path

import httpx
import pytest
import websockets

from livegql.core import json
from livegql.tls import self_signed_certificate
from tests.test_cli import SCHEMA_MODULE, interrupt, livegql, read_line, start

QUERY = {"query": "{ hello }"}


def tls_env(tmp_path: Path) -> dict[str, str]:
    """The CLI's environment with the per-user data folder (where the certificate is kept) in tmp_path."""
    return {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}


async def test_the_self_signed_demo_serves_https_and_wss_and_its_printed_commands_work(tmp_path: Path) -> None:
    env = tls_env(tmp_path)
    process = await start("demo", "--port", "0", "--db", str(tmp_path / "chat.db"), "--self-signed", env=env)
    try:
        await read_line(process)  # where the chat is stored
        watch, post = await read_line(process), await read_line(process)
        certfile = tmp_path / "data" / "livegql" / "tls" / "localhost-cert.pem"
        assert watch.startswith(f"watch:  SSL_CERT_FILE={certfile} livegql subscribe wss://127.0.0.1:")
        command = shlex.split(post.removeprefix("post:"))
        assert command[0] == f"SSL_CERT_FILE={certfile}"
        assert command[3].startswith("https://")
        # The printed command, run as printed (the variable, then the command).
        sent = await livegql(*command[2:], env={**env, "SSL_CERT_FILE": str(certfile)})
        assert (sent.code, sent.stderr) == (0, "")
        assert json.loads(sent.stdout)["data"]["send"]["id"]
        url = command[3]
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=certfile)) as client:
            answer = await client.post(url, json={"query": "{ messages { text } }"})
        assert answer.json() == {"data": {"messages": [{"text": "hi"}]}}
        # wss: a subscription over the same certificate.
        trusted = ssl.create_default_context(cafile=certfile)
        wss = url.replace("https://", "wss://")
        async with websockets.connect(
            wss, ssl=trusted, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        # Not trusting it fails: the certificate is checked, not waved through.
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient() as untrusting:
                await untrusting.post(url, json=QUERY)
    finally:
        finished = await interrupt(process)
    assert finished.code == 0


def test_the_self_signed_certificate_is_kept_and_reused(tmp_path: Path) -> None:
    first = self_signed_certificate(tmp_path)
    made = Path(first.certfile).read_bytes()
    assert oct(Path(first.keyfile).stat().st_mode & 0o777) == "0o600"  # the key is private
    again = self_signed_certificate(tmp_path)
    assert (again, Path(again.certfile).read_bytes()) == (first, made)


async def test_serve_uses_the_given_certificate_files(tmp_path: Path) -> None:
    files = self_signed_certificate(tmp_path / "certs")
    (tmp_path / "chatapp.py").write_text(SCHEMA_MODULE)
    args = ("--ssl-certfile", files.certfile, "--ssl-keyfile", files.keyfile)
    process = await start("serve", "chatapp:schema", "--port", "0", *args, cwd=tmp_path)
    try:
        line = await read_line(process)
        match = re.fullmatch(r"livegql: serving chatapp:schema at (https://127\.0\.0\.1:\d+/graphql)", line)
        assert match is not None, line
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=files.certfile)) as client:
            answer = await client.post(match[1], json=QUERY)
        assert answer.json() == {"data": {"hello": "from a schema"}}
    finally:
        finished = await interrupt(process)
    assert finished.code == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--ssl-certfile", "cert.pem"), "--ssl-certfile and --ssl-keyfile go together"),
        (("--ssl-certfile", "nope.pem", "--ssl-keyfile", "nope.pem"), "no such file: nope.pem"),
        (("--self-signed", "--ssl-keyfile", "k.pem"), "--self-signed makes its own certificate"),
    ],
)
async def test_bad_tls_options_exit_2_with_one_line(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    (tmp_path / "chatapp.py").write_text(SCHEMA_MODULE)
    finished = await livegql("serve", "chatapp:schema", "--port", "0", *args, cwd=tmp_path)
    assert finished.code == 2, finished
    assert fragment in finished.stderr
    assert len(finished.stderr.splitlines()) == 1
