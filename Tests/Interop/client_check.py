#!/usr/bin/env python3
"""One-shot MCP client for mcpctl's interoperability tests, built on the official mcp SDK.

Runs with either ``.venv-mcp1`` (mcp 1.x) or ``.venv-mcp2`` (mcp 2.x) python and
talks Streamable HTTP through the SDK's own client, adding the given headers to
every request.

    python client_check.py --url URL [--header 'Name: value']... [--timeout 30]
                           [--mode auto|legacy] ACTION [ARGS]

ACTION:
    initialize                  {"server_name", "server_version", "protocol_version", "era",
                                 "sdk_version", "mode"}
    list-tools                  {"tools": [names...], "annotations": {name: {...}}}
    call TOOL [--args JSON]     {"is_error": bool, "content": [texts...]}

Exit codes (one JSON object on stdout in every case; diagnostics on stderr):
    0  success (a tool result with is_error=true is still a success)
    2  usage error (argparse)
    3  the server answered an MCP request with HTTP >= 400:
       {"error": "http", "status": N, "www_authenticate": "..." | null, "rpc_method": "...", ...}
    4  anything else, a timeout included:
       {"error": "other", "kind": "mcp" | "timeout" | "connect" | "exception", "message": "...", ...}

See README.md next to this file for how each SDK version reports HTTP errors
and why the status is taken from an httpx response hook.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from importlib.metadata import version as _dist_version
from typing import Any

EXIT_OK = 0
EXIT_HTTP = 3
EXIT_OTHER = 4

_printed = threading.Lock()


def emit(obj: dict[str, Any], code: int) -> None:
    """Prints the single JSON result and exits; only the first call wins."""
    if not _printed.acquire(blocking=False):
        return
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"header must look like 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="One-shot MCP Streamable HTTP client (official mcp SDK).")
    p.add_argument("--url", required=True, help="MCP endpoint, e.g. http://127.0.0.1:8000/mcp/app/env")
    p.add_argument("--header", action="append", type=parse_header, default=[], metavar="'Name: value'")
    p.add_argument("--timeout", type=float, default=30.0, help="hard limit for the whole run, seconds")
    p.add_argument(
        "--mode",
        default="auto",
        help="mcp 2.x connect mode: auto (SDK default: server/discover, then initialize), legacy "
        "(initialize only) or a modern protocol version such as 2026-07-28; mcp 1.x always uses initialize",
    )
    p.add_argument("--verbose", action="store_true", help="SDK debug logging on stderr")
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("initialize", help="connect and print server name, version and protocol version")
    sub.add_parser("list-tools", help="print the tool names")
    c = sub.add_parser("call", help="call one tool")
    c.add_argument("tool")
    c.add_argument("--args", default="{}", help="JSON object of tool arguments")
    args = p.parse_args(argv)
    if args.action == "call":
        try:
            args.tool_args = json.loads(args.args)
        except ValueError as e:
            p.error(f"--args is not JSON: {e}")
        if not isinstance(args.tool_args, dict):
            p.error("--args must be a JSON object")
    return args


# --------------------------------------------------------------------------- SDK adapters

SDK_VERSION = _dist_version("mcp")
SDK_MAJOR = int(SDK_VERSION.split(".")[0])

import anyio  # noqa: E402
import mcp.client.streamable_http as _sh  # noqa: E402

# mcp 1.x uses httpx; mcp 2.x moved to the httpx2 fork. Use whichever the SDK's transport imports.
httpx: Any = getattr(_sh, "httpx2", None) or getattr(_sh, "httpx")


@dataclass
class HTTPRecord:
    method: str
    url: str
    status: int | None
    www_authenticate: str | None
    request: Any = field(default=None, repr=False)
    rpc_method: str | None = None


@dataclass
class Recorder:
    """Sees every HTTP exchange of the SDK's httpx client, in the order requests were sent.

    mcp 2.x turns an HTTP refusal into a JSON-RPC error that keeps neither the
    status nor the headers, so this record is where they are found.
    """

    exchanges: list[HTTPRecord] = field(default_factory=list)

    async def on_request(self, request: Any) -> None:
        self.exchanges.append(HTTPRecord(request.method, str(request.url), None, None, request, rpc_method_of(request)))

    async def on_response(self, response: Any) -> None:
        for rec in reversed(self.exchanges):
            if rec.request is response.request:
                rec.status = response.status_code
                rec.www_authenticate = response.headers.get("www-authenticate")
                return

    def culprit(self) -> HTTPRecord | None:
        """The refusal that failed the operation: the last POST sent, if it was answered >= 400.

        Only POSTs carry MCP messages. A GET (the optional server-to-client SSE
        stream) or DELETE (session teardown) answered >= 400 fails nothing, and
        an earlier refused POST followed by a successful one (mcp 2.x's
        server/discover probe against a legacy server) is not the cause either.
        """
        posts = [r for r in self.exchanges if r.method == "POST"]
        if posts and posts[-1].status is not None and posts[-1].status >= 400:
            return posts[-1]
        return None


def rpc_method_of(request: Any) -> str | None:
    """The JSON-RPC method a POST carries, if its body is a readable JSON-RPC message."""
    if request.method != "POST":
        return None
    try:
        body = json.loads(request.content)
    except Exception:  # noqa: BLE001 - streaming or non-JSON body
        return None
    return body.get("method") if isinstance(body, dict) else None


def make_http_client(headers: dict[str, str], timeout: float, recorder: Recorder) -> Any:
    return httpx.AsyncClient(
        headers=headers,
        timeout=httpx.Timeout(timeout, read=timeout),
        event_hooks={"request": [recorder.on_request], "response": [recorder.on_response]},
        follow_redirects=False,
    )


def dump(model: Any) -> Any:
    """Pydantic model -> wire-shaped JSON (camelCase) in both SDK versions."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


class Session:
    """What an action needs, the same over both SDK versions."""

    server_name: str | None
    server_version: str | None
    protocol_version: str | None
    era: str

    async def list_tools(self) -> Any: ...
    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any: ...


async def run_action(args: argparse.Namespace, recorder: Recorder) -> dict[str, Any]:
    headers = dict(args.header)
    if SDK_MAJOR < 2 and not hasattr(_sh, "streamable_http_client"):
        # 1.x before streamable_http_client existed: only the (now deprecated) factory form,
        # whose transport opens and closes the client itself.
        def factory(headers: Any = None, timeout: Any = None, auth: Any = None) -> Any:
            return make_http_client(dict(args.header), args.timeout, recorder)

        return await _run_v1(args, _sh.streamablehttp_client(args.url, httpx_client_factory=factory))
    async with make_http_client(headers, args.timeout, recorder) as http_client:
        transport = _sh.streamable_http_client(args.url, http_client=http_client)
        if SDK_MAJOR >= 2:
            return await _run_v2(args, transport)
        return await _run_v1(args, transport)


async def _run_v1(args: argparse.Namespace, transport: Any) -> dict[str, Any]:
    from mcp import ClientSession

    async with transport as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            info = dump(init)
            s = Session()
            s.server_name = info.get("serverInfo", {}).get("name")
            s.server_version = info.get("serverInfo", {}).get("version")
            s.protocol_version = info.get("protocolVersion")
            s.era = "handshake"
            s.list_tools = session.list_tools  # type: ignore[method-assign]
            s.call_tool = session.call_tool  # type: ignore[method-assign]
            return await _do(args, s)


async def _run_v2(args: argparse.Namespace, transport: Any) -> dict[str, Any]:
    from mcp import Client

    async with Client(transport, mode=args.mode) as client:
        info = client.server_info
        s = Session()
        s.server_name = info.name if info else None
        s.server_version = info.version if info else None
        s.protocol_version = client.protocol_version
        try:
            from mcp_types.version import MODERN_PROTOCOL_VERSIONS
        except ImportError:
            MODERN_PROTOCOL_VERSIONS = ()  # type: ignore[assignment]
        s.era = "modern" if client.protocol_version in MODERN_PROTOCOL_VERSIONS else "handshake"
        s.list_tools = client.list_tools  # type: ignore[method-assign]
        s.call_tool = client.call_tool  # type: ignore[method-assign]
        return await _do(args, s)


async def _do(args: argparse.Namespace, s: Session) -> dict[str, Any]:
    if args.action == "initialize":
        return {
            "server_name": s.server_name,
            "server_version": s.server_version,
            "protocol_version": s.protocol_version,
            "era": s.era,
            "sdk_version": SDK_VERSION,
            "mode": args.mode if SDK_MAJOR >= 2 else "legacy",
        }
    if args.action == "list-tools":
        tools: list[dict[str, Any]] = []
        cursor = None
        while True:
            result = dump(await (s.list_tools(cursor=cursor) if cursor else s.list_tools()))
            tools.extend(result.get("tools", []))
            cursor = result.get("nextCursor")
            if not cursor:
                break
        return {
            "tools": [t["name"] for t in tools],
            "annotations": {t["name"]: t.get("annotations", {}) for t in tools},
        }
    if args.action == "call":
        result = dump(await s.call_tool(args.tool, args.tool_args))
        texts = [c.get("text", "") if c.get("type") == "text" else json.dumps(c) for c in result.get("content", [])]
        out: dict[str, Any] = {"is_error": bool(result.get("isError", False)), "content": texts}
        if "structuredContent" in result:
            out["structured_content"] = result["structuredContent"]
        return out
    raise AssertionError(args.action)


# --------------------------------------------------------------------------- error reporting


def leaves(exc: BaseException) -> list[BaseException]:
    """All exceptions inside (nested) exception groups, plus their causes."""
    out: list[BaseException] = []
    stack = [exc]
    seen: set[int] = set()
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, BaseExceptionGroup):
            stack.extend(reversed(e.exceptions))
            continue
        out.append(e)
        for nxt in (e.__cause__, e.__context__):
            if nxt is not None:
                stack.append(nxt)
    return out


def classify(exc: BaseException, recorder: Recorder) -> tuple[dict[str, Any], int]:
    found = leaves(exc)
    mcp_error = next((e for e in found if hasattr(e, "error") and hasattr(getattr(e, "error"), "code")), None)
    mcp_message = None
    mcp_code = None
    if mcp_error is not None:
        mcp_code = mcp_error.error.code  # type: ignore[attr-defined]
        mcp_message = mcp_error.error.message  # type: ignore[attr-defined]

    # 1. mcp 1.x raises httpx.HTTPStatusError (inside ExceptionGroups) carrying the very response.
    status_exc = next((e for e in found if isinstance(e, httpx.HTTPStatusError)), None)
    rec: HTTPRecord | None = None
    if status_exc is not None:
        resp = status_exc.response
        rec = HTTPRecord(
            resp.request.method,
            str(resp.request.url),
            resp.status_code,
            resp.headers.get("www-authenticate"),
            resp.request,
            rpc_method_of(resp.request),
        )
    # 2. Otherwise (mcp 2.x: MCPError -32603 "Server returned an error response", or 1.x's
    #    "Session terminated" for a 404) the response hook saw the refusal.
    if rec is None:
        rec = recorder.culprit()
    if rec is not None:
        out: dict[str, Any] = {
            "error": "http",
            "status": rec.status,
            "www_authenticate": rec.www_authenticate,
            "http_method": rec.method,
            "rpc_method": rec.rpc_method,
            "url": rec.url,
        }
        if mcp_message is not None:
            out["mcp_code"] = mcp_code
            out["mcp_message"] = mcp_message
        return out, EXIT_HTTP

    if mcp_error is not None:
        return {"error": "other", "kind": "mcp", "code": mcp_code, "message": mcp_message}, EXIT_OTHER
    timeout = next((e for e in found if isinstance(e, TimeoutError)), None)
    if timeout is not None:
        return {"error": "other", "kind": "timeout", "message": f"timed out: {timeout!r}"}, EXIT_OTHER
    connect = next((e for e in found if isinstance(e, (httpx.ConnectError, ConnectionError))), None)
    if connect is not None:
        return {"error": "other", "kind": "connect", "message": f"{type(connect).__name__}: {connect}"}, EXIT_OTHER
    first = found[0] if found else exc
    return {"error": "other", "kind": "exception", "message": f"{type(first).__name__}: {first}"}, EXIT_OTHER


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import logging

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)

    # Backstop: even a wedged event loop cannot outlive the limit by more than 5 s.
    def on_alarm(_sig: int, _frame: Any) -> None:
        emit({"error": "other", "kind": "timeout", "message": f"hard timeout after {args.timeout}s (alarm)"}, EXIT_OTHER)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.timeout) + 5)

    recorder = Recorder()

    async def guarded() -> dict[str, Any]:
        with anyio.fail_after(args.timeout):
            return await run_action(args, recorder)

    try:
        result = anyio.run(guarded)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one JSON line
        if isinstance(exc, KeyboardInterrupt):
            raise
        print(f"client_check: {type(exc).__name__}: {exc}", file=sys.stderr)
        for leaf in leaves(exc):
            print(f"client_check:   caused by {type(leaf).__name__}: {leaf}", file=sys.stderr)
        out, code = classify(exc, recorder)
        emit(out, code)
        return
    emit(result, EXIT_OK)


if __name__ == "__main__":
    main()
