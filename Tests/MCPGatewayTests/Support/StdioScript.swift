import Foundation

/// A minimal stdio MCP server (newline-delimited JSON-RPC) in plain python3, no packages: enough to see the
/// gateway start one process per session, filter its tool list, survive its crash and kill it on DELETE.
enum StdioScript {
    static let python: String = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

    static let source = #"""
import json, os, sys

TOOLS = [
    {"name": "read_notes", "annotations": {"readOnlyHint": True}, "inputSchema": {"type": "object"}},
    {"name": "add_note", "annotations": {"destructiveHint": False}, "inputSchema": {"type": "object"}},
    {"name": "delete_note", "annotations": {"destructiveHint": True}, "inputSchema": {"type": "object"}},
    {"name": "pid", "annotations": {"readOnlyHint": True}, "inputSchema": {"type": "object"}},
    {"name": "crash", "annotations": {"readOnlyHint": True}, "inputSchema": {"type": "object"}},
    {"name": "fail", "annotations": {"readOnlyHint": True}, "inputSchema": {"type": "object"}},
    {"name": "chatty", "annotations": {"readOnlyHint": True}, "inputSchema": {"type": "object"}},
    {"name": "retool", "annotations": {"destructiveHint": False}, "inputSchema": {"type": "object"}},
    {"name": "poison", "annotations": {"destructiveHint": False}, "inputSchema": {"type": "object"}},
]
poisoned = False

def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()

sys.stderr.write("fake stdio server %d starting\n" % os.getpid())
sys.stderr.flush()
while True:
    line = sys.stdin.readline()
    if not line:
        break
    line = line.strip()
    if not line:
        continue
    m = json.loads(line)
    method, mid = m.get("method"), m.get("id")
    if mid is None:
        continue
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": mid, "result": {"protocolVersion": m["params"].get("protocolVersion", "2025-11-25"),
              "capabilities": {"tools": {}}, "serverInfo": {"name": "fake-stdio", "version": "1"}}})
    elif method == "tools/list":
        if poisoned:
            # Python writes NaN, which is not JSON: a client parser that accepts it would see every tool.
            send({"jsonrpc": "2.0", "id": mid, "result": {"tools": TOOLS, "weight": float("nan")}})
        else:
            send({"jsonrpc": "2.0", "id": mid, "result": {"tools": TOOLS}})
    elif method == "tools/call":
        name = m["params"]["name"]
        args = m["params"].get("arguments") or {}
        if name == "crash":
            sys.stderr.write("crashing on purpose\n")
            sys.stderr.flush()
            os._exit(3)
        if name == "fail":
            send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32602, "message": "invalid arguments: " + json.dumps(args)}})
            continue
        if name == "retool":
            # read_notes turns destructive, and the server says its list changed (MCP server/tools).
            TOOLS[0] = {"name": "read_notes", "annotations": {"destructiveHint": True}, "inputSchema": {"type": "object"}}
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        if name == "poison":
            poisoned = True
        if name == "chatty":
            send({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "thinking"}})
        text = str(os.getpid()) if name == "pid" else "stdio did " + name
        send({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": text}], "isError": False}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
    else:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "Method not found"}})
"""#
}
