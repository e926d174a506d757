#!/usr/bin/env python3
"""MCP load clients for bench/reliability.sh: they record what the gateway acknowledged, for checks against
the audit log afterwards. Standard library only; one keep-alive HTTP/1.1 connection per thread, one request
in flight per connection, a distinct JSON-RPC id and tool argument on every request.

  reliability-client.py acked --url URL --tokens FILE --out FILE
      One thread per line of FILE (a bearer token each). Every thread sends tools/call in a loop until
      SIGTERM; on a connection error it reconnects (the server may be down: it is being killed) after 20 ms.
      Every request calls a tool of its own name, c<client>_<n>, so that its audit row (which carries the
      tool, not the arguments) names it. On SIGTERM it writes, per client, the tools of the requests answered
      2xx ("acknowledged": the status line and the whole body arrived) and the other outcomes, as JSON to --out.

  reliability-client.py check-acked --db STORE --ids FILE --out FILE
      Matches the acknowledged requests of `acked` (--out) with the store's allow rows with a 2xx status for
      each client's token (ids in FILE, one per line, same order as the tokens). Prints a table and the line
      `LOST=N DUPLICATES=N`: acknowledged requests without a row, and requests with more than one row.

  reliability-client.py revoke --url URL --token SECRET --token-id ID --mcpctl BIN [--connections 32]
                               [--before 3] [--after 3]
      --connections threads share one token. After --before seconds the main thread runs
      `BIN token revoke ID` and takes time.monotonic() when it has returned; load goes on for --after
      seconds. Every request's send time is time.monotonic() taken just before its first byte is written,
      on the same clock. Prints the figures and the line `VIOLATIONS=N`: the 2xx answers to requests sent
      after the revoke returned (must be 0). Exit 0, or 1 if the revoke command failed.
"""
import argparse, http.client, json, signal, subprocess, sys, threading, time, urllib.parse

HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
           "MCP-Protocol-Version": "2025-11-25"}


def body(client, n, tool="echo"):
    return json.dumps({"jsonrpc": "2.0", "id": n, "method": "tools/call",
                       "params": {"name": tool, "arguments": {"text": f"client {client} request {n}"}}})


class Connection:
    """One keep-alive connection that reconnects after any error."""

    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.headers = dict(HEADERS, Authorization=f"Bearer {token}")
        self.conn = None

    def call(self, payload, on_send=None):
        """Returns the HTTP status, or raises OSError/HTTPException (the connection is then dropped)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
            self.conn.connect()
        try:
            if on_send:
                on_send()
            self.conn.request("POST", self.path, body=payload, headers=self.headers)
            r = self.conn.getresponse()
            r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def acked(args):
    tokens = [t.strip() for t in open(args.tokens) if t.strip()]
    stop = threading.Event()
    stats = [{"acked": [], "statuses": {}, "errors": 0} for _ in tokens]

    def run(i):
        c, n, s = Connection(args.url, tokens[i]), 0, stats[i]
        while not stop.is_set():
            n += 1
            tool = f"c{i + 1}_{n}"
            try:
                status = c.call(body(i, n, tool))
            except (OSError, http.client.HTTPException):
                s["errors"] += 1
                stop.wait(0.02)
                continue
            if 200 <= status < 300:
                s["acked"].append(tool)
            s["statuses"][str(status)] = s["statuses"].get(str(status), 0) + 1
        c.close()

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(tokens))]
    for t in threads:
        t.start()
    while not stop.is_set():
        stop.wait(0.2)
    for t in threads:
        t.join(20)
    with open(args.out, "w") as f:
        json.dump({"clients": stats, "unfinished_threads": sum(t.is_alive() for t in threads)}, f)


def check_acked(args):
    import sqlite3
    clients = json.load(open(args.out))["clients"]
    ids = [l.strip() for l in open(args.ids) if l.strip()]
    db = sqlite3.connect(args.db, timeout=10)
    lost_total = dup_total = 0
    print(f"{'client':<7} {'token':<21} {'acked':>7} {'rows_2xx':>9} {'lost':>5} {'unacked_rows':>12} {'dup':>4} "
          f"{'errors':>7}  statuses")
    for i, (c, token_id) in enumerate(zip(clients, ids)):
        rows = [t for (t,) in db.execute(
            "SELECT tool FROM audit WHERE source = 'mcp' AND token_id = ? AND decision = 'allow' "
            "AND status BETWEEN 200 AND 299", (token_id,))]
        seen, dups = set(), 0
        for t in rows:
            dups += t in seen
            seen.add(t)
        acked = set(c["acked"])
        lost = len(acked - seen)
        lost_total += lost
        dup_total += dups
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(c["statuses"].items())) or "-"
        print(f"{i + 1:<7} {token_id:<21} {len(acked):>7} {len(rows):>9} {lost:>5} {len(seen - acked):>12} {dups:>4} "
              f"{c['errors']:>7}  {statuses}")
    print(f"LOST={lost_total} DUPLICATES={dup_total} ACKED={sum(len(c['acked']) for c in clients)}")
    return 0


def revoke(args):
    stop = threading.Event()
    records = []  # (send time, status or None for a connection error); list.append is atomic
    lock = threading.Lock()

    def run(i):
        c, n = Connection(args.url, args.token), 0
        while not stop.is_set():
            n += 1
            sent = [0.0]
            try:
                status = c.call(body(i, n), on_send=lambda: sent.__setitem__(0, time.monotonic()))
            except (OSError, http.client.HTTPException):
                status = None
                stop.wait(0.01)
            if sent[0]:
                with lock:
                    records.append((sent[0], status))
        c.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(args.connections)]
    for t in threads:
        t.start()
    time.sleep(args.before)
    started = time.monotonic()
    p = subprocess.run([args.mcpctl, "token", "revoke", args.token_id], capture_output=True, text=True)
    returned = time.monotonic()
    time.sleep(args.after)
    stop.set()
    for t in threads:
        t.join(20)
    if p.returncode != 0:
        print(f"token revoke failed ({p.returncode}): {p.stderr.strip()}")
        return 1

    ok = lambda s: s is not None and 200 <= s < 300
    before = [r for r in records if r[0] < started]
    during = [r for r in records if started <= r[0] <= returned]
    after = [r for r in records if r[0] > returned]
    violations = [r for r in after if ok(r[1])]

    def tally(rs):
        out = {}
        for _, s in rs:
            k = "error" if s is None else str(s)
            out[k] = out.get(k, 0) + 1
        return " ".join(f"{k}:{v}" for k, v in sorted(out.items())) or "-"

    ms = lambda t: f"{(t - returned) * 1000:+.1f} ms"
    print(f"  {args.connections} connections, one token; `token revoke` took {(returned - started) * 1000:.1f} ms")
    print(f"  requests sent before the revoke started:  {len(before):6d}  ({tally(before)})")
    print(f"  requests sent while it ran:               {len(during):6d}  ({tally(during)})")
    print(f"  requests sent after it returned:          {len(after):6d}  ({tally(after)})")
    last_ok = max((t for t, s in records if ok(s)), default=None)
    first_no = min((t for t, s in records if s is not None and not ok(s) and t >= started), default=None)
    print(f"  last 2xx request sent at {ms(last_ok) if last_ok else '-'} and first refused one at "
          f"{ms(first_no) if first_no else '-'}, relative to the revoke's return")
    print(f"VIOLATIONS={len(violations)}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    a = sub.add_parser("acked")
    a.add_argument("--url", required=True)
    a.add_argument("--tokens", required=True)
    a.add_argument("--out", required=True)
    k = sub.add_parser("check-acked")
    k.add_argument("--db", required=True)
    k.add_argument("--ids", required=True)
    k.add_argument("--out", required=True)
    r = sub.add_parser("revoke")
    r.add_argument("--url", required=True)
    r.add_argument("--token", required=True)
    r.add_argument("--token-id", required=True)
    r.add_argument("--mcpctl", required=True)
    r.add_argument("--connections", type=int, default=32)
    r.add_argument("--before", type=float, default=3)
    r.add_argument("--after", type=float, default=3)
    args = ap.parse_args()
    sys.exit({"acked": acked, "check-acked": check_acked, "revoke": revoke}[args.mode](args))


if __name__ == "__main__":
    main()
