"""Run one ASGI app under uvicorn on an inherited listening socket: `python -m bench.serve --fd N module:app`.

The same `uvicorn.Config` for every Python server: one worker, loop/http/ws as uvicorn[standard] picks ("auto"),
log level warning, no lifespan (the peers' apps do not speak it). The socket is bound by the parent so the port is
known before the server starts and no other process can take it.
"""

import argparse
import socket

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("--fd", type=int, required=True, help="an inherited, bound and listening TCP socket")
    parser.add_argument("app", help="import string of the ASGI app, e.g. bench.apps.livegql_app:app")
    args = parser.parse_args()
    sock = socket.socket(fileno=args.fd)
    config = uvicorn.Config(args.app, log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
