#!/usr/bin/env python3
"""One client kind against every upstream kind through ``mcpctl serve``: a row of the MCP revision matrix.

Runs with ``.venv-mcp1`` (mcp 1.30: 2025-11-25 only) or ``.venv-mcp2`` (mcp 2.3: ``--mode legacy`` for
2025-11-25, ``--mode 2026-07-28`` for the per-request revision without a probe, ``--mode auto`` for
``server/discover`` first). For each endpoint given with ``--endpoint NAME=URL`` it checks, in one
process (the SDK is imported once), with the SDK's own client:

- ``list``: a read token lists only the read-only tool (the others need write/delete: hidden);
- ``call``: the read-only tool works;
- ``denied``: the destructive tool is refused (HTTP status recorded, 403 expected);
- ``unauthenticated``: no credentials at all (HTTP status recorded, 401 expected);
- ``era``: the revision the client ended up speaking; ``cache``: the Cache-Control header and the
  ``cacheScope`` of the tools/list answer.

    python revision_matrix.py --token TOKEN [--mode MODE] --endpoint http=URL [--endpoint ...]

Prints one JSON object ``{"client": ..., "cells": {NAME: {...}}}`` on stdout; exit 0 when it ran
(the caller judges the cells), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import anyio  # noqa: E402
import client_check as cc  # noqa: E402


class CacheRecorder(cc.Recorder):
    """The SDK's HTTP exchanges, plus the cache hints of each tools/list answer."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: list[dict[str, Any]] = []

    async def on_response(self, response: Any) -> None:
        await super().on_response(response)
        if cc.rpc_method_of(response.request) != "tools/list" or response.status_code != 200:
            return
        await response.aread()  # a narrowed list is answered whole, never as an open stream
        scope = None
        for line in response.text.splitlines() or [response.text]:
            text = line[5:].strip() if line.startswith("data:") else line
            try:
                body = json.loads(text)
            except ValueError:
                continue
            if isinstance(body, dict) and isinstance(body.get("result"), dict):
                scope = {"cacheScope": body["result"].get("cacheScope"), "ttlMs": body["result"].get("ttlMs")}
        self.cache.append({"cache_control": response.headers.get("cache-control"), **(scope or {})})


async def one(url: str, token: str | None, mode: str, action: str, tool: str | None = None,
              tool_args: dict[str, Any] | None = None) -> tuple[dict[str, Any], CacheRecorder]:
    """Runs one client_check action; returns its JSON (the error shape on failure) and the recorder."""
    headers = [("Authorization", f"Bearer {token}")] if token else []
    args = argparse.Namespace(url=url, header=headers, timeout=30.0, mode=mode, action=action, tool=tool,
                              tool_args=tool_args or {}, verbose=False)
    recorder = CacheRecorder()
    try:
        with anyio.fail_after(30):
            return await cc.run_action(args, recorder), recorder
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none raised
        out, _ = cc.classify(exc, recorder)
        return out, recorder


async def cell(url: str, token: str, mode: str) -> dict[str, Any]:
    listed, rec = await one(url, token, mode, "list-tools")
    era, _ = await one(url, token, mode, "initialize")
    called, _ = await one(url, token, mode, "call", "search_notes", {"query": "milk"})
    denied, _ = await one(url, token, mode, "call", "delete_note", {"note_id": 1})
    anonymous, _ = await one(url, None, mode, "list-tools")
    return {
        "tools": listed.get("tools"),
        "list_error": listed if "error" in listed else None,
        "era": era.get("era"),
        "protocol_version": era.get("protocol_version"),
        "call_ok": called.get("is_error") is False and "buy milk" in "".join(called.get("content", [])),
        "call_error": called if "error" in called else None,
        "denied_status": denied.get("status"),
        "unauthenticated_status": anonymous.get("status"),
        "cache": rec.cache,
    }


async def run(ns: argparse.Namespace) -> dict[str, Any]:
    cells = {}
    for name, url in ns.endpoint:
        cells[name] = await cell(url, ns.token, ns.mode)
    return {"client": f"mcp {cc.SDK_VERSION} mode={ns.mode if cc.SDK_MAJOR >= 2 else 'legacy'}", "cells": cells}


def endpoint(text: str) -> tuple[str, str]:
    name, sep, url = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError("--endpoint must look like NAME=URL")
    return name, url


def main() -> None:
    p = argparse.ArgumentParser(description="One row of the MCP revision matrix through mcpctl serve.")
    p.add_argument("--token", required=True, help="a read-only token of a user granted every endpoint")
    p.add_argument("--mode", default="legacy", help="mcp 2.x connect mode: legacy, auto or 2026-07-28 (1.x: ignored)")
    p.add_argument("--endpoint", action="append", type=endpoint, required=True, metavar="NAME=URL")
    ns = p.parse_args()
    print(json.dumps(anyio.run(run, ns), sort_keys=True))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
