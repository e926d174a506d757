#!/usr/bin/env python3
"""A small MCP upstream server for mcpctl's interoperability tests.

It is built on the server framework bundled with the official MCP Python SDK,
so the gateway is tested against a server nobody here wrote:

- mcp 1.x: ``mcp.server.fastmcp.FastMCP``
- mcp 2.x: ``mcp.server.mcpserver.MCPServer`` (FastMCP was renamed; importing
  ``mcp.server.fastmcp`` raises ModuleNotFoundError in 2.x)

It runs unchanged in both ``.venv-mcp1`` and ``.venv-mcp2``.

Three tools over an in-memory list of notes, one per scope the gateway maps
from annotations (DESIGN.md §5):

- ``search_notes(query)``  readOnlyHint=True                      -> scope read
- ``add_note(text)``       readOnlyHint=False, destructiveHint=False -> scope write
- ``delete_note(note_id)`` destructiveHint=True                   -> scope delete

Usage:
    python upstream_server.py                       # stdio (default)
    python upstream_server.py --transport http --port 0 [--host 127.0.0.1]
                              [--stateless] [--json-response] [--allow-any-host]

With ``--transport http`` it serves Streamable HTTP at ``/mcp`` and prints
exactly one line ``READY <port>`` to stdout (flushed) once uvicorn accepts
connections; ``--port 0`` picks a free port, which that line reports. Logs go
to stderr. Stop it with SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from importlib.metadata import version as _dist_version
from typing import Any

import anyio

from mcp.types import ToolAnnotations

try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer as _ServerClass
    from mcp.server.mcpserver.exceptions import ToolError

    SDK_MAJOR = 2
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as _ServerClass
    from mcp.server.fastmcp.exceptions import ToolError

    SDK_MAJOR = 1

SERVER_NAME = "mcpctl-interop-notes"
SERVER_VERSION = "1.0.0"

SEED_NOTES: list[dict[str, Any]] = [
    {"id": 1, "text": "buy milk"},
    {"id": 2, "text": "call the plumber"},
    {"id": 3, "text": "review the gateway design"},
]


def build_server(args: argparse.Namespace) -> Any:
    """Creates the server object with its three tools, for the SDK major version installed."""
    notes: list[dict[str, Any]] = [dict(n) for n in SEED_NOTES]
    next_id = [max(n["id"] for n in notes) + 1]

    kwargs: dict[str, Any] = {"log_level": args.log_level}
    if SDK_MAJOR == 2:
        kwargs["version"] = SERVER_VERSION
    else:
        # 1.x keeps HTTP settings on the constructor; 2.x takes them in
        # streamable_http_app() instead (see make_http_app).
        kwargs.update(
            host=args.host,
            port=args.port,
            json_response=args.json_response,
            stateless_http=args.stateless,
            transport_security=_transport_security(args),
        )
    server = _ServerClass(SERVER_NAME, **kwargs)
    if SDK_MAJOR == 1:
        # FastMCP 1.x has no version argument; the low-level server reports it.
        server._mcp_server.version = SERVER_VERSION

    @server.tool(
        description="Search notes whose text contains the query (case-insensitive).",
        annotations=ToolAnnotations(readOnlyHint=True),
        structured_output=False,
    )
    def search_notes(query: str) -> str:
        q = query.lower()
        return json.dumps([n for n in notes if q in n["text"].lower()])

    @server.tool(
        description="Add a note and return it with its id.",
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False),
        structured_output=False,
    )
    def add_note(text: str) -> str:
        note = {"id": next_id[0], "text": text}
        next_id[0] += 1
        notes.append(note)
        return json.dumps(note)

    @server.tool(
        description="Delete a note by id. Fails if there is no such note.",
        annotations=ToolAnnotations(destructiveHint=True),
        structured_output=False,
    )
    def delete_note(note_id: int) -> str:
        for i, n in enumerate(notes):
            if n["id"] == note_id:
                del notes[i]
                return json.dumps({"deleted": note_id})
        # ToolError keeps its text in both SDKs (2.x hides other exceptions' messages).
        raise ToolError(f"no note with id {note_id}")

    return server


def _transport_security(args: argparse.Namespace) -> Any:
    """None keeps the SDK default (DNS-rebinding protection on loopback hosts)."""
    if not args.allow_any_host:
        return None
    from mcp.server.transport_security import TransportSecuritySettings

    return TransportSecuritySettings(enable_dns_rebinding_protection=False)


def make_http_app(server: Any, args: argparse.Namespace) -> Any:
    """Returns the Starlette app serving Streamable HTTP at /mcp."""
    if SDK_MAJOR == 2:
        return server.streamable_http_app(
            streamable_http_path="/mcp",
            json_response=args.json_response,
            stateless_http=args.stateless,
            transport_security=_transport_security(args),
            host=args.host,
        )
    return server.streamable_http_app()


async def serve_http(server: Any, args: argparse.Namespace) -> None:
    """Binds the socket first (so --port 0 works), runs uvicorn, prints READY once it is up."""
    import uvicorn

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    port = sock.getsockname()[1]

    config = uvicorn.Config(
        make_http_app(server, args),
        log_level=args.log_level.lower(),
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    uv = uvicorn.Server(config)

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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="MCP notes server (three annotated tools) for interop tests.")
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (reported on the READY line)")
    p.add_argument("--stateless", action="store_true", help="stateless Streamable HTTP (no Mcp-Session-Id)")
    p.add_argument("--json-response", action="store_true", help="answer POSTs with JSON instead of SSE")
    p.add_argument(
        "--allow-any-host",
        action="store_true",
        help="turn off the SDK's DNS-rebinding protection (Host/Origin allow-list)",
    )
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
    p.add_argument("--sdk-version", action="store_true", help="print the installed mcp version and exit")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sdk_version:
        print(_dist_version("mcp"))
        return 0
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
