#!/usr/bin/env python3
"""Load clients and checks of bench/postgres.sh (replicas on one PostgreSQL store). Standard library only.
The request, the keep-alive connection and the `acked` load client are bench/reliability-client.py's.

  postgres-client.py revoke --replica URL [--replica URL …] --token SECRET --token-id ID --mcpctl BIN
                            [--threads 8] [--before 3] [--after 3]
      --threads threads per replica, each on its own keep-alive connection straight to that replica, all on
      one token. After --before seconds the main thread runs `BIN token revoke ID` (the store is the
      environment's MCPCTL_DB) and takes time.monotonic() when it has returned; load goes on for --after s.
      Per request it keeps the replica, the send time (time.monotonic() just before its first byte), the
      answer time, and whether it was ACCEPTED: status 200 with a JSON-RPC "result" in the body.
      Prints per replica the requests sent before / while / after the revoke ran, the send time of the last
      accepted request and of the first refusal after it ("switch": when that replica began refusing),
      relative to the revoke's return, then the lines
        SWITCH_MS=<the last replica's switch, ms after the return; <= 0: it refused before the CLI returned>
        REVOKE_MS=<how long `token revoke` took>
        VIOLATIONS=<requests accepted although sent after the revoke returned: must be 0>

  postgres-client.py check-acked --mcpctl BIN --ids FILE --out FILE
      The check of reliability-client.py's check-acked, read through the CLI so it works on any store:
      `BIN audit export --format jsonl --source mcp --token ID` per token id of FILE (one per line, same
      order as the tokens of `acked`). An acknowledged request (2xx answer) must have an allow row with a
      2xx status naming its tool. Prints a table and `ACKED=N LOST=N DUPLICATES=N UNACKED_ROWS=N`.
"""
import argparse, http.client, importlib.util, json, os, subprocess, sys, threading, time, urllib.parse

_spec = importlib.util.spec_from_file_location(
    "reliability_client", os.path.join(os.path.dirname(os.path.abspath(__file__)), "reliability-client.py"))
reliability = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reliability)


class Replica:
    """One keep-alive connection to one replica that reconnects after any error; answers (status, body)."""

    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.headers = dict(reliability.HEADERS, Authorization=f"Bearer {token}")
        self.conn = None

    def call(self, payload, on_send):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
            self.conn.connect()
        try:
            on_send()
            self.conn.request("POST", self.path, body=payload, headers=self.headers)
            r = self.conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status, data
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def accepted(status, data):
    if status != 200:
        return False
    try:
        return "result" in json.loads(data)
    except ValueError:
        return b'"result"' in data  # an event stream answer: the result is inside a data: line


def revoke(args):
    stop = threading.Event()
    records = []  # (replica, sent, answered, status or None, accepted); list.append is atomic

    def run(replica, i):
        c, n = Replica(args.replica[replica], args.token), 0
        while not stop.is_set():
            n += 1
            sent = [0.0]
            try:
                status, data = c.call(reliability.body(f"r{replica + 1}t{i}", n),
                                      on_send=lambda: sent.__setitem__(0, time.monotonic()))
                ok = accepted(status, data)
            except (OSError, http.client.HTTPException):
                status, ok = None, False
                stop.wait(0.01)
            if sent[0]:
                records.append((replica, sent[0], time.monotonic(), status, ok))
        c.close()

    threads = [threading.Thread(target=run, args=(r, i), daemon=True)
               for r in range(len(args.replica)) for i in range(args.threads)]
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

    def tally(rs):
        out = {}
        for _, _, _, s, ok in rs:
            k = "error" if s is None else ("accepted" if ok else str(s))
            out[k] = out.get(k, 0) + 1
        return " ".join(f"{k}:{v}" for k, v in sorted(out.items())) or "-"

    ms = lambda t: "-" if t is None else f"{(t - returned) * 1000:+.1f}"
    print(f"  {len(args.replica)} replicas × {args.threads} connections, one token; "
          f"`token revoke` took {(returned - started) * 1000:.1f} ms")
    print(f"  {'replica':<8} {'sent before':<26} {'sent while it ran':<26} {'sent after it returned':<26} "
          f"{'last_accept_ms':>14} {'switch_ms':>10}")
    switches, violations = [], 0
    for r in range(len(args.replica)):
        mine = [x for x in records if x[0] == r]
        before = [x for x in mine if x[1] < started]
        during = [x for x in mine if started <= x[1] <= returned]
        after = [x for x in mine if x[1] > returned]
        violations += sum(1 for x in after if x[4])
        last_ok = max((x[1] for x in mine if x[4]), default=None)
        first_no = min((x[1] for x in mine if x[3] is not None and not x[4] and (last_ok is None or x[1] > last_ok)),
                       default=None)
        switches.append(first_no)
        print(f"  {r + 1:<8} {tally(before):<26} {tally(during):<26} {tally(after):<26} {ms(last_ok):>14} {ms(first_no):>10}")
    print("  (times in ms relative to the revoke's return, by send time; switch = the first refusal sent after the "
          "replica's last accepted request)")
    last = None if None in switches else max(switches)
    print(f"SWITCH_MS={'-' if last is None else f'{(last - returned) * 1000:.1f}'}")
    print(f"REVOKE_MS={(returned - started) * 1000:.1f}")
    print(f"VIOLATIONS={violations}")
    return 0


def audit_rows(mcpctl, token_id):
    out = subprocess.run([mcpctl, "audit", "export", "--format", "jsonl", "--source", "mcp", "--token", token_id],
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def check_acked(args):
    clients = json.load(open(args.out))["clients"]
    ids = [l.strip() for l in open(args.ids) if l.strip()]
    lost_total = dup_total = unacked_total = 0
    print(f"  {'client':<7} {'token':<21} {'acked':>7} {'rows_2xx':>9} {'lost':>5} {'unacked_rows':>12} {'dup':>4} "
          f"{'errors':>7}  statuses")
    for i, (c, token_id) in enumerate(zip(clients, ids)):
        rows = [r.get("tool") for r in audit_rows(args.mcpctl, token_id)
                if r.get("decision") == "allow" and 200 <= int(r.get("status") or 0) <= 299]
        seen, dups = set(), 0
        for t in rows:
            dups += t in seen
            seen.add(t)
        acked = set(c["acked"])
        lost = len(acked - seen)
        lost_total += lost
        dup_total += dups
        unacked_total += len(seen - acked)
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(c["statuses"].items())) or "-"
        print(f"  {i + 1:<7} {token_id:<21} {len(acked):>7} {len(rows):>9} {lost:>5} {len(seen - acked):>12} {dups:>4} "
              f"{c['errors']:>7}  {statuses}")
    print(f"ACKED={sum(len(c['acked']) for c in clients)} LOST={lost_total} DUPLICATES={dup_total} "
          f"UNACKED_ROWS={unacked_total}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("revoke")
    r.add_argument("--replica", action="append", required=True)
    r.add_argument("--token", required=True)
    r.add_argument("--token-id", required=True)
    r.add_argument("--mcpctl", required=True)
    r.add_argument("--threads", type=int, default=8)
    r.add_argument("--before", type=float, default=3)
    r.add_argument("--after", type=float, default=3)
    k = sub.add_parser("check-acked")
    k.add_argument("--mcpctl", required=True)
    k.add_argument("--ids", required=True)
    k.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.exit({"revoke": revoke, "check-acked": check_acked}[args.mode](args))


if __name__ == "__main__":
    main()
