#!/usr/bin/env python3
"""A fake MCP endpoint that refuses requests the way an OAuth resource server does.

It exists to prove that client_check.py reports the HTTP status and the
``WWW-Authenticate`` header of a refusal, whatever the mcp SDK version does
with them. Standard library only; runs under any python3.

Usage:
    python fake_auth_server.py --status 401 [--port 0] [--fail-on METHODS]
    python fake_auth_server.py --status 403 --fail-on tools/call

    python fake_auth_server.py --status 401 --require-header 'Authorization: Bearer t0k'

Prints ``READY <port>`` on stdout once listening. Every request whose JSON-RPC
method is in ``--fail-on`` (comma-separated; ``*`` means every request,
including GET and DELETE; the default is ``*`` unless ``--require-header`` is
given), or that lacks one of the ``--require-header`` headers with exactly that
value, is answered with ``--status`` and:

- 401: ``WWW-Authenticate: Bearer resource_metadata="<metadata>", scope="read"``
- 403: ``WWW-Authenticate: Bearer error="insufficient_scope", scope="<scope>",
  resource_metadata="<metadata>"``
- any other status: no ``WWW-Authenticate`` header

with a small JSON body ``{"error": ..., "error_description": ...}`` (not
JSON-RPC, as an auth layer in front of MCP would answer). Other requests get a
minimal stateless MCP server: ``initialize``, ``tools/list`` (one tool
``echo``), ``tools/call`` and ``ping`` succeed with JSON responses;
notifications get 202; ``server/discover`` and unknown methods get a JSON-RPC
``-32601`` error so mcp 2.x clients fall back to the initialize handshake.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_METADATA = "http://x/.well-known/oauth-protected-resource/mcp/a/b"


class Handler(BaseHTTPRequestHandler):
    """Answers one request; configuration lives on the server object."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: object) -> None:
        if self.server.verbose:  # type: ignore[attr-defined]
            sys.stderr.write("fake_auth_server: " + (fmt % args) + "\n")

    def _send(self, status: int, body: bytes | None, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _refuse(self) -> None:
        srv = self.server
        status: int = srv.status  # type: ignore[attr-defined]
        headers = {"Content-Type": "application/json"}
        if status == 401:
            headers["WWW-Authenticate"] = f'Bearer resource_metadata="{srv.metadata}", scope="read"'  # type: ignore[attr-defined]
            err = {"error": "invalid_token", "error_description": "Missing or invalid credentials"}
        elif status == 403:
            headers["WWW-Authenticate"] = (
                f'Bearer error="insufficient_scope", scope="{srv.scope}", '  # type: ignore[attr-defined]
                f'resource_metadata="{srv.metadata}"'  # type: ignore[attr-defined]
            )
            err = {"error": "insufficient_scope", "error_description": "The token lacks the needed scope"}
        else:
            err = {"error": "refused", "error_description": f"status {status}"}
        self._send(status, json.dumps(err).encode(), headers)

    def _fails(self, method: str) -> bool:
        fail_on: set[str] = self.server.fail_on  # type: ignore[attr-defined]
        required: list[tuple[str, str]] = self.server.required  # type: ignore[attr-defined]
        if any(self.headers.get(name) != value for name, value in required):
            return True
        return "*" in fail_on or method in fail_on

    def do_GET(self) -> None:  # noqa: N802
        if self._fails("GET"):
            self._refuse()
        else:
            self._send(405, None, {"Allow": "POST"})

    def do_DELETE(self) -> None:  # noqa: N802
        if self._fails("DELETE"):
            self._refuse()
        else:
            self._send(405, None, {"Allow": "POST"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            msg = json.loads(raw)
        except ValueError:
            self._send(400, b'{"error":"bad json"}', {"Content-Type": "application/json"})
            return
        method = msg.get("method", "") if isinstance(msg, dict) else ""
        if self._fails(method):
            self._refuse()
            return
        if "id" not in msg:
            self._send(202, None, {})
            return
        result: dict | None = None
        if method == "initialize":
            result = {
                "protocolVersion": msg.get("params", {}).get("protocolVersion", "2025-06-18"),
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": "fake-auth-server", "version": "0.0.1"},
            }
        elif method == "ping":
            result = {}
        elif method == "tools/list":
            result = {
                "tools": [
                    {
                        "name": "echo",
                        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
                        "annotations": {"readOnlyHint": True},
                    }
                ]
            }
        elif method == "tools/call":
            text = json.dumps(msg.get("params", {}).get("arguments", {}))
            result = {"content": [{"type": "text", "text": text}], "isError": False}
        if result is None:
            reply = {"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "Method not found"}}
        else:
            reply = {"jsonrpc": "2.0", "id": msg["id"], "result": result}
        self._send(200, json.dumps(reply).encode(), {"Content-Type": "application/json"})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Fake MCP endpoint answering 401/403 with WWW-Authenticate.")
    p.add_argument("--status", type=int, default=401)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument(
        "--fail-on",
        default=None,
        help="comma-separated JSON-RPC methods (or GET/DELETE) to refuse; * = all (default unless --require-header)",
    )
    p.add_argument(
        "--require-header",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="refuse any request without this header and value (repeatable)",
    )
    p.add_argument("--metadata", default=DEFAULT_METADATA, help="resource_metadata URL put in WWW-Authenticate")
    p.add_argument("--scope", default="delete", help="scope named in a 403 insufficient_scope challenge")
    p.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = p.parse_args(argv)

    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    srv.status = args.status  # type: ignore[attr-defined]
    fail_on = args.fail_on if args.fail_on is not None else ("" if args.require_header else "*")
    srv.fail_on = {m.strip() for m in fail_on.split(",") if m.strip()}  # type: ignore[attr-defined]
    required = []
    for h in args.require_header:
        name, sep, value = h.partition(":")
        if not sep:
            p.error(f"--require-header must look like 'Name: value', got {h!r}")
        required.append((name.strip(), value.strip()))
    srv.required = required  # type: ignore[attr-defined]
    srv.metadata = args.metadata  # type: ignore[attr-defined]
    srv.scope = args.scope  # type: ignore[attr-defined]
    srv.verbose = args.verbose  # type: ignore[attr-defined]
    sys.stdout.write(f"READY {srv.server_address[1]}\n")
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
