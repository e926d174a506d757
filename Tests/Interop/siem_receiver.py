"""A SIEM collector for audit-forwarding tests: accepts POSTed JSON arrays of audit events.

It answers 503 to the first --fail-first posts, then waits --delay seconds before answering 200 to each
(so a batch is often in flight when a test kills the sender). Every accepted batch is appended to --out as
one JSON line {"seqs": [...], "headers": {...}} before the answer is sent. Prints `READY <port>`.
Only the standard library: nothing here is the code under test.
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    lock = threading.Lock()
    state = {"posts": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state["posts"] += 1
                failing = state["posts"] <= args.fail_first
            if failing:
                self.answer(503, b'{"error":"not yet"}')
                return
            events = json.loads(body)
            assert isinstance(events, list) and all(isinstance(e, dict) for e in events)
            record = {"seqs": [e["seq"] for e in events], "events": events,
                      "headers": {k.lower(): v for k, v in self.headers.items()}}
            with lock, open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            time.sleep(args.delay)
            self.answer(200, b'{"ok":true}')

        def answer(self, status, body):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
