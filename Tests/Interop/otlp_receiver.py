"""An OpenTelemetry collector stand-in for tracing tests: decodes OTLP/HTTP JSON trace exports with the
official protobuf definitions (PyPI `opentelemetry-proto`).

Each POST to /v1/traces must be `Content-Type: application/json` and parse with
`google.protobuf.json_format.Parse` into `ExportTraceServiceRequest`, which refuses unknown fields and
values of the wrong type. The OTLP specification ("JSON Protobuf Encoding") departs from the proto3 JSON
mapping in one place, ids: `traceId`, `spanId` and `parentSpanId` are hex strings, not base64. They are
checked to be exactly 32/16 lowercase hex digits and turned into base64 before parsing, as collectors do.

Every accepted span is appended to --out as one JSON line (ids as hex, times as integers, attributes as a
dict, the resource's attributes under "resource"); every raw body is appended to --out + ".raw" (so a test
can search all the bytes it was sent) and its headers to --out + ".headers". A body that does not decode is answered 400 and recorded in
--out + ".errors". With --hang, bodies are read and then never answered (a collector that accepts but is
stuck). Prints `READY <port>`.
"""
import argparse
import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

HEX = {"traceId": re.compile(r"^[0-9a-f]{32}$"), "spanId": re.compile(r"^[0-9a-f]{16}$"), "parentSpanId": re.compile(r"^[0-9a-f]{16}$")}


def hex_ids_to_base64(body):
    """The OTLP JSON ids (hex) as the proto3 JSON mapping has bytes (base64); raises on a malformed id."""
    for resource_spans in body.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key, pattern in HEX.items():
                    if key in span:
                        if not isinstance(span[key], str) or not pattern.match(span[key]):
                            raise ValueError(f"{key} is not lowercase hex of the right length: {span[key]!r}")
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return body


def any_value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def decode(raw):
    request = ExportTraceServiceRequest()
    json_format.Parse(json.dumps(hex_ids_to_base64(json.loads(raw))), request)
    spans = []
    for rs in request.resource_spans:
        resource = {kv.key: any_value(kv.value) for kv in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                spans.append({
                    "traceId": s.trace_id.hex(), "spanId": s.span_id.hex(), "parentSpanId": s.parent_span_id.hex(),
                    "traceState": s.trace_state, "name": s.name, "kind": s.kind,
                    "start": s.start_time_unix_nano, "end": s.end_time_unix_nano,
                    "attributes": {kv.key: any_value(kv.value) for kv in s.attributes},
                    "status": s.status.code, "resource": resource, "scope": ss.scope.name,
                })
    return spans


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--hang", action="store_true")
    args = parser.parse_args()
    lock = threading.Lock()

    def append(path, text):
        with lock, open(path, "a", encoding="utf-8") as f:
            f.write(text + "\n")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            append(args.out + ".raw", raw.decode("utf-8", "replace"))
            append(args.out + ".headers", json.dumps(dict(self.headers.items())))
            if args.hang:
                while True:
                    time.sleep(3600)
            if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/json":
                append(args.out + ".errors", f"{self.path} {self.headers.get('Content-Type')}")
                return self.answer(404 if self.path != "/v1/traces" else 415, b"{}")
            try:
                spans = decode(raw)
            except Exception as e:  # json_format.ParseError, ValueError, json.JSONDecodeError
                append(args.out + ".errors", f"{type(e).__name__}: {e}")
                return self.answer(400, b'{"code":3,"message":"bad request"}')
            for span in spans:
                append(args.out, json.dumps(span))
            self.answer(200, b"{}")

        def answer(self, status, body):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
