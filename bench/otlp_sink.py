"""A minimal OTLP/HTTP trace sink for bench/observability.sh: answers every POST with 200 `{}` after reading
the body, counting posts and bytes (printed on SIGTERM). Decodes nothing: the collector's cost is not what
the benchmark measures. Prints `READY <port>`. Only the standard library.
"""
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {"posts": 0, "bytes": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        with lock:
            counts["posts"] += 1
            counts["bytes"] += n
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *a):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    server.daemon_threads = True

    def finish(*_):
        print(f"posts={counts['posts']} bytes={counts['bytes']}", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, finish)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
