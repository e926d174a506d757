#!/usr/bin/env python3
"""Self-test of the interop harness: upstream_server.py and client_check.py against each other.

No gateway and no auth are involved: this proves the Python side works with
both SDK majors before any Swift test relies on it.

    .ci/setup-python && python3 Tests/Interop/selftest.py [--quick] [-k SUBSTRING] [-v]

Standard library only; runs under any python3 >= 3.10. Starts every server on
127.0.0.1 with a free port and stops it afterwards. Ends with the line
``N passed, N failed`` and exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PY = {1: ROOT / ".venv-mcp1" / "bin" / "python", 2: ROOT / ".venv-mcp2" / "bin" / "python"}
UPSTREAM = HERE / "upstream_server.py"
CLIENT = HERE / "client_check.py"
FAKE = HERE / "fake_auth_server.py"

# (venv, --mode) pairs that drive client_check: 1.x has only the initialize handshake,
# 2.x defaults to auto (server/discover first) and can be forced to legacy.
CLIENTS = [(1, "auto"), (2, "auto"), (2, "legacy")]

CHALLENGE_401 = 'Bearer resource_metadata="http://x/.well-known/oauth-protected-resource/mcp/a/b", scope="read"'


@dataclass
class Result:
    name: str
    ok: bool
    detail: str = ""


class Server:
    """A child process that prints `READY <port>` once it is serving."""

    def __init__(self, argv: list[str], name: str) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        self.port = self._await_ready(30.0)

    def _await_ready(self, limit: float) -> int:
        box: list[str] = []
        t = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        t.start()
        t.join(limit)
        line = box[0] if box else ""
        if not line.startswith("READY "):
            self.stop()
            err = self.proc.stderr.read() if self.proc.stderr else ""  # type: ignore[union-attr]
            raise RuntimeError(f"{self.name} did not print READY within {limit}s: {line!r} {err[-2000:]}")
        return int(line.split()[1])

    def url(self, path: str = "/mcp") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def client_check(venv: int, mode: str, url: str, *action: str, headers: list[str] = (), timeout: float = 30) -> tuple[int, Any, str]:  # type: ignore[assignment]
    argv = [str(PY[venv]), str(CLIENT), "--url", url, "--mode", mode, "--timeout", str(timeout)]
    for h in headers:
        argv += ["--header", h]
    argv += list(action)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 15)
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        out = {"unparsable_stdout": p.stdout}
    return p.returncode, out, p.stderr


class Suite:
    def __init__(self, filt: str | None, verbose: bool) -> None:
        self.filt = filt
        self.verbose = verbose
        self.results: list[Result] = []
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
        self.pending: list[Any] = []

    def check(self, name: str, fn: Callable[[], str | None]) -> None:
        """Queue one check; fn returns None when fine, else what went wrong."""
        if self.filt and self.filt not in name:
            return

        def run() -> None:
            t0 = time.monotonic()
            try:
                problem = fn()
            except Exception as e:  # noqa: BLE001
                problem = f"{type(e).__name__}: {e}"
            r = Result(name, problem is None, problem or "")
            with self.lock:
                self.results.append(r)
                status = "ok  " if r.ok else "FAIL"
                if self.verbose or not r.ok:
                    print(f"{status} {name} ({time.monotonic() - t0:.1f}s){'' if r.ok else ': ' + r.detail}", flush=True)

        self.pending.append(self.pool.submit(run))

    def drain(self) -> None:
        for f in self.pending:
            f.result()
        self.pending.clear()


def expect(rc: int, out: Any, err: str, want_rc: int, pred: Callable[[Any], bool], what: str) -> str | None:
    if rc != want_rc or out is None or not pred(out):
        return f"expected exit {want_rc} and {what}; got exit {rc}, stdout {json.dumps(out)}, stderr tail {err[-600:]!r}"
    return None


# --------------------------------------------------------------------------- groups


def upstream_http(s: Suite, server_venv: int, flags: list[str], full: bool) -> None:
    label = f"http[mcp{server_venv}{''.join(' ' + f for f in flags)}]"
    srv = Server([str(PY[server_venv]), str(UPSTREAM), "--transport", "http", "--port", "0", *flags], label)
    try:
        for venv, mode in CLIENTS:
            c = f"{label} client mcp{venv}/{mode}"
            url = srv.url()
            modern = server_venv == 2 and venv == 2 and mode == "auto"

            def init(venv: int = venv, mode: str = mode, modern: bool = modern) -> str | None:
                rc, out, err = client_check(venv, mode, url, "initialize")
                return expect(
                    rc, out, err, 0,
                    lambda o: o["server_name"] == "mcpctl-interop-notes"
                    and o["server_version"] == "1.0.0"
                    and o["era"] == ("modern" if modern else "handshake")
                    and o["protocol_version"] == ("2026-07-28" if modern else "2025-11-25"),
                    f"server mcpctl-interop-notes 1.0.0, era {'modern' if modern else 'handshake'}",
                )

            def list_tools(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, url, "list-tools")
                return expect(
                    rc, out, err, 0,
                    lambda o: sorted(o["tools"]) == ["add_note", "delete_note", "search_notes"]
                    and o["annotations"]["search_notes"] == {"readOnlyHint": True}
                    and o["annotations"]["add_note"] == {"readOnlyHint": False, "destructiveHint": False}
                    and o["annotations"]["delete_note"] == {"destructiveHint": True},
                    "the three tools with their annotations",
                )

            def search(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, url, "call", "search_notes", "--args", '{"query": "MILK"}')
                return expect(
                    rc, out, err, 0,
                    lambda o: o["is_error"] is False and json.loads(o["content"][0]) == [{"id": 1, "text": "buy milk"}],
                    "note 1",
                )

            s.check(f"{c} list-tools", list_tools)
            s.check(f"{c} call search_notes", search)
            if not full:
                continue
            s.check(f"{c} initialize", init)

            def add(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, url, "call", "add_note", "--args", '{"text": "from the selftest"}')
                return expect(
                    rc, out, err, 0,
                    lambda o: o["is_error"] is False and json.loads(o["content"][0])["text"] == "from the selftest",
                    "the new note",
                )

            def delete_missing(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, url, "call", "delete_note", "--args", '{"note_id": 999}')
                return expect(
                    rc, out, err, 0,
                    lambda o: o["is_error"] is True and "no note with id 999" in o["content"][0],
                    "is_error with 'no note with id 999'",
                )

            s.check(f"{c} call add_note", add)
            s.check(f"{c} call delete_note (missing -> is_error)", delete_missing)
        s.drain()
    finally:
        srv.stop()


def upstream_stdio(s: Suite, server_venv: int) -> None:
    def run() -> str | None:
        msgs = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "selftest", "version": "0"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "delete_note", "arguments": {"note_id": 1}}},
        ]
        p = subprocess.Popen([str(PY[server_venv]), str(UPSTREAM)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            assert p.stdin and p.stdout
            for m in msgs:
                p.stdin.write(json.dumps(m) + "\n")
            p.stdin.flush()
            # Keep stdin open until every answer is in: at EOF the SDK drops requests still running.
            replies: dict[int, Any] = {}
            box: list[str] = []
            deadline = time.monotonic() + 30
            while len(replies) < 3 and time.monotonic() < deadline:
                t = threading.Thread(target=lambda: box.append(p.stdout.readline()), daemon=True)  # type: ignore[union-attr]
                t.start()
                t.join(max(0.0, deadline - time.monotonic()))
                line = box.pop() if box else ""
                if not line:
                    break
                msg = json.loads(line)
                if "id" in msg:
                    replies[msg["id"]] = msg
            p.stdin.close()
            p.wait(10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        if set(replies) != {1, 2, 3}:
            return f"replies {sorted(replies)} instead of [1, 2, 3]"
        if replies[1]["result"]["serverInfo"]["name"] != "mcpctl-interop-notes":
            return f"initialize: {replies[1]}"
        names = sorted(t["name"] for t in replies[2]["result"]["tools"])
        if names != ["add_note", "delete_note", "search_notes"]:
            return f"tools/list: {names}"
        if replies[3]["result"].get("isError") or '"deleted": 1' not in replies[3]["result"]["content"][0]["text"]:
            return f"tools/call: {replies[3]}"
        return None

    s.check(f"stdio[mcp{server_venv}] initialize, tools/list, tools/call", run)


def http_errors(s: Suite) -> None:
    fakes = {
        "401 all": Server([sys.executable, str(FAKE), "--status", "401"], "fake 401"),
        "403 on call": Server([sys.executable, str(FAKE), "--status", "403", "--fail-on", "tools/call"], "fake 403"),
        "401 on list": Server([sys.executable, str(FAKE), "--status", "401", "--fail-on", "tools/list"], "fake 401 list"),
        "404 all": Server([sys.executable, str(FAKE), "--status", "404"], "fake 404"),
        "header": Server([sys.executable, str(FAKE), "--status", "401", "--require-header", "Email: a@example.com",
                          "--require-header", "Token: mcp_pat_x"], "fake header"),
    }
    try:
        for venv, mode in CLIENTS:
            c = f"client mcp{venv}/{mode}"

            def e401(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, fakes["401 all"].url("/mcp/a/b"), "list-tools")
                return expect(rc, out, err, 3, lambda o: o == {
                    "error": "http", "status": 401, "www_authenticate": CHALLENGE_401, "http_method": "POST",
                    "rpc_method": "initialize", "url": fakes["401 all"].url("/mcp/a/b"),
                    **({"mcp_code": o["mcp_code"], "mcp_message": o["mcp_message"]} if "mcp_code" in o else {}),
                }, "401 with the exact challenge")

            def e403(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, fakes["403 on call"].url(), "call", "echo", "--args", '{"a": 1}')
                return expect(
                    rc, out, err, 3,
                    lambda o: o["status"] == 403 and o["rpc_method"] == "tools/call"
                    and o["www_authenticate"].startswith('Bearer error="insufficient_scope", scope="delete"'),
                    "403 insufficient_scope on tools/call",
                )

            def ok_before_403(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, fakes["403 on call"].url(), "list-tools")
                return expect(rc, out, err, 0, lambda o: o["tools"] == ["echo"], "tools [echo]")

            def e401_later(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, fakes["401 on list"].url(), "list-tools")
                return expect(rc, out, err, 3, lambda o: o["status"] == 401 and o["rpc_method"] == "tools/list",
                              "401 on tools/list after a good initialize")

            def e404(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, fakes["404 all"].url(), "initialize")
                return expect(rc, out, err, 3, lambda o: o["status"] == 404 and o["www_authenticate"] is None, "404")

            def headers_sent(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, fakes["header"].url(), "call", "echo", "--args", "{}",
                                            headers=["Email: a@example.com", "Token: mcp_pat_x"])
                return expect(rc, out, err, 0, lambda o: o["is_error"] is False, "success with both headers")

            def headers_missing(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, fakes["header"].url(), "initialize",
                                            headers=["Email: a@example.com"])
                return expect(rc, out, err, 3, lambda o: o["status"] == 401, "401 without the Token header")

            s.check(f"errors {c} 401 on initialize -> exit 3 with challenge", e401)
            s.check(f"errors {c} 403 insufficient_scope on tools/call -> exit 3", e403)
            s.check(f"errors {c} list-tools fine where only tools/call is refused", ok_before_403)
            s.check(f"errors {c} 401 on tools/list after initialize -> exit 3", e401_later)
            s.check(f"errors {c} 404 -> exit 3", e404)
            s.check(f"errors {c} --header values reach the server", headers_sent)
            s.check(f"errors {c} missing header -> 401", headers_missing)
        s.drain()
    finally:
        for f in fakes.values():
            f.stop()


def other_errors(s: Suite) -> None:
    # A port nobody listens on, and a socket that accepts connections but never answers.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    dead_port = probe.getsockname()[1]
    probe.close()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    silent_port = silent.getsockname()[1]
    try:
        for venv, mode in CLIENTS:
            c = f"client mcp{venv}/{mode}"

            def refused(venv: int = venv, mode: str = mode) -> str | None:
                rc, out, err = client_check(venv, mode, f"http://127.0.0.1:{dead_port}/mcp", "initialize")
                return expect(rc, out, err, 4, lambda o: o["error"] == "other" and o["kind"] == "connect", "connect error")

            def hangs(venv: int = venv, mode: str = mode) -> str | None:
                t0 = time.monotonic()
                rc, out, err = client_check(venv, mode, f"http://127.0.0.1:{silent_port}/mcp", "initialize", timeout=3)
                took = time.monotonic() - t0
                problem = expect(rc, out, err, 4, lambda o: o["error"] == "other" and o["kind"] == "timeout", "timeout")
                if problem is None and took > 12:
                    problem = f"took {took:.1f}s for a 3s timeout"
                return problem

            s.check(f"other {c} connection refused -> exit 4 connect", refused)
            s.check(f"other {c} silent server -> exit 4 timeout", hangs)
        s.drain()
    finally:
        silent.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="only the default server flags, fewer calls")
    ap.add_argument("-k", dest="filt", help="run only checks whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="print passing checks too")
    args = ap.parse_args()

    missing = [str(p) for p in PY.values() if not p.exists()]
    if missing:
        print(f"missing {', '.join(missing)}: run .ci/setup-python first", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1

    s = Suite(args.filt, args.verbose)
    t0 = time.monotonic()
    flag_sets = [[]] if args.quick else [[], ["--stateless"], ["--json-response"], ["--stateless", "--json-response"]]
    for server_venv in (1, 2):
        for flags in flag_sets:
            upstream_http(s, server_venv, flags, full=(flags == []))
        upstream_stdio(s, server_venv)
    s.drain()
    http_errors(s)
    other_errors(s)
    s.drain()
    s.pool.shutdown()

    failed = [r for r in s.results if not r.ok]
    print(f"interop selftest: {len(s.results)} checks in {time.monotonic() - t0:.0f}s "
          f"(mcp1 {PY[1]}, mcp2 {PY[2]})", file=sys.stderr)
    print(f"{len(s.results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
