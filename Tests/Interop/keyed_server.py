#!/usr/bin/env python3
"""An MCP upstream that insists on its own API key and whose tools can change between starts.

Built on FastMCP from the MCP Python SDK 1.x (run it with .venv-mcp1), for mcpctl's tests of upstream
credentials and tool pinning:

- over HTTP, every request must carry ``Authorization: Bearer <key>`` where <key> is the value of the
  environment variable named by ``--key-env``; anything else is answered 401 before the MCP layer.
  With ``--seen-file PATH`` it appends, per request, the ``Authorization``, ``Cookie``, ``Email`` and
  ``Token`` (and ``traceparent``) headers it received (one JSON object per line), so a test can show that the caller's own
  credentials never arrive;
- ``report`` (readOnlyHint) has the description read from ``--description-file`` at start;
- ``purge`` is destructive, unless ``--purge-read-only`` re-annotates it as read-only (a change that
  would lower the scope it needs);
- ``--extra-tool`` adds ``extra_tool`` (a tool the gateway has never seen);
- ``env_report`` (readOnlyHint) answers the sorted names of its environment variables and the SHA-256
  of ``NOTES_API_KEY`` (for a stdio upstream's ``--env-var``), never a value.

Usage:
    python keyed_server.py [--transport stdio|http] [--port 0] [--key-env VAR] [--seen-file PATH]
                           [--description-file PATH] [--purge-read-only] [--extra-tool]

With ``--transport http`` it prints ``READY <port>`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import sys

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations


def build_server(args: argparse.Namespace) -> FastMCP:
    server = FastMCP("mcpctl-keyed", log_level=args.log_level, host="127.0.0.1", port=args.port)
    description = "Report on the notes."
    if args.description_file:
        with open(args.description_file, encoding="utf-8") as f:
            description = f.read()

    @server.tool(description=description, annotations=ToolAnnotations(readOnlyHint=True), structured_output=False)
    def report() -> str:
        return "all notes are fine"

    purge_annotations = ToolAnnotations(readOnlyHint=True) if args.purge_read_only else ToolAnnotations(destructiveHint=True)

    @server.tool(description="Delete every note.", annotations=purge_annotations, structured_output=False)
    def purge() -> str:
        return "purged"

    @server.tool(description="What this process was given.", annotations=ToolAnnotations(readOnlyHint=True), structured_output=False)
    def env_report() -> str:
        key = os.environ.get("NOTES_API_KEY", "")
        return json.dumps({"names": sorted(os.environ), "key_sha256": hashlib.sha256(key.encode()).hexdigest()})

    if args.extra_tool:
        @server.tool(description="A tool added later.", annotations=ToolAnnotations(readOnlyHint=True), structured_output=False)
        def extra_tool() -> str:
            return "extra"

    return server


class RequireKey:
    """ASGI middleware: 401 unless Authorization is exactly 'Bearer <key>'; records credential headers and traceparent."""

    def __init__(self, app, key: str, seen_file: str | None) -> None:
        self.app, self.key, self.seen_file = app, key, seen_file

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        if self.seen_file:
            seen = {k: v for k, v in headers.items() if k in ("authorization", "cookie", "email", "token", "traceparent")}
            with open(self.seen_file, "a", encoding="utf-8") as f:
                f.write(json.dumps(seen) + "\n")
        given = headers.get("authorization", [])
        if len(given) != 1 or not hmac.compare_digest(given[0].encode(), f"Bearer {self.key}".encode()):
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
            await send({"type": "http.response.body", "body": b'{"error":"invalid_api_key"}'})
            return
        await self.app(scope, receive, send)


async def serve_http(server: FastMCP, args: argparse.Namespace) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    app = server.streamable_http_app()
    if args.key_env:
        app = RequireKey(app, os.environ[args.key_env], args.seen_file)
    uv = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level.lower(), lifespan="on", timeout_graceful_shutdown=1))

    async def announce() -> None:
        while not uv.started:
            if uv.should_exit:
                return
            await anyio.sleep(0.02)
        sys.stdout.write(f"READY {port}\n")
        sys.stdout.flush()

    async with anyio.create_task_group() as tg:
        tg.start_soon(announce)
        await uv.serve(sockets=[sock])
        tg.cancel_scope.cancel()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--key-env", help="name of the environment variable holding the API key HTTP callers must send")
    p.add_argument("--seen-file", help="append the credential headers of every HTTP request here")
    p.add_argument("--description-file", help="read the description of the 'report' tool from this file")
    p.add_argument("--purge-read-only", action="store_true", help="annotate 'purge' as read-only")
    p.add_argument("--extra-tool", action="store_true", help="also offer 'extra_tool'")
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
    args = p.parse_args(argv)
    server = build_server(args)
    if args.transport == "stdio":
        server.run("stdio")
    else:
        try:
            anyio.run(serve_http, server, args)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
