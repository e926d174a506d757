#!/usr/bin/env python3
"""The Python baseline of bench/gateway.sh (the gateway should do >= 10x a Python FastMCP
proxy with a token verifier).

A FastMCP server from the official MCP Python SDK (mcp 1.x, `.venv-mcp1`) in stateless Streamable HTTP
mode with JSON responses, behind the SDK's own bearer-token machinery (`token_verifier` + `AuthSettings`).
The verifier does what mcpctl does for a personal token: SHA-256 of the presented secret, compared in
constant time with the stored hash. One tool, `echo`, forwards each call to the upstream (nginx, the same
one the gateway fronts) over a keep-alive httpx client and returns the upstream's result content. No audit
log: this baseline does strictly less work per request than the gateway.

Usage: fastmcp_proxy.py --port PORT --upstream URL --token-sha256 HEX
Prints "READY <port>" once it accepts connections.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import socket
import sys
import time

import httpx
import uvicorn
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.fastmcp import FastMCP


class HashVerifier(TokenVerifier):
    def __init__(self, digest: bytes) -> None:
        self.digest = digest

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(hashlib.sha256(token.encode()).digest(), self.digest):
            return AccessToken(token=token, client_id="bench", scopes=["read", "write"], expires_at=None)
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--token-sha256", required=True)
    a = ap.parse_args()
    public = f"http://127.0.0.1:{a.port}"
    mcp = FastMCP(
        "python-proxy",
        stateless_http=True,
        json_response=True,
        token_verifier=HashVerifier(bytes.fromhex(a.token_sha256)),
        auth=AuthSettings(issuer_url=public, resource_server_url=f"{public}/mcp", required_scopes=["read"],
                          validate_token_resource=False),
        log_level="ERROR",
    )
    client = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=256, max_connections=512), timeout=30)

    @mcp.tool()
    async def echo(text: str = "") -> str:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": text}}}
        r = await client.post(a.upstream, json=body, headers={"Accept": "application/json, text/event-stream"})
        r.raise_for_status()
        return r.json()["result"]["content"][0]["text"]

    app = mcp.streamable_http_app()
    config = uvicorn.Config(app, host="127.0.0.1", port=a.port, log_level="error", access_log=False)
    server = uvicorn.Server(config)

    import threading

    def announce() -> None:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", a.port), timeout=0.2).close()
                print(f"READY {a.port}", flush=True)
                return
            except OSError:
                time.sleep(0.05)

    threading.Thread(target=announce, daemon=True).start()
    server.run()


if __name__ == "__main__":
    sys.exit(main())
