"""Fetches a Prometheus /metrics page and parses it with the official parser (prometheus-client).

Prints one JSON object: {"samples": [[name, labels, value], ...], "types": {family: type}}. Exits 1 if the
page does not parse. Used by MetricsInteropTests: the parser is the proof the format is right.
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    with urllib.request.urlopen(sys.argv[1], timeout=30) as r:
        content_type = r.headers.get("Content-Type", "")
        text = r.read().decode("utf-8")
    samples, types = [], {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples.append([s.name, s.labels, s.value])
    print(json.dumps({"samples": samples, "types": types, "content_type": content_type, "text": text}))


if __name__ == "__main__":
    main()
