#!/usr/bin/env python3
"""Fill an mcpctl store with N audit rows that carry a VALID hash chain.

The store must already have the schema (run `mcpctl init` on it first). Rows are appended after
whatever the log already holds, continuing from `audit_head`, so `mcpctl audit verify` passes on the
result. That makes this script an independent check of the chain format: the canonical encoding
below is a second implementation of Sources/MCPAuth/Audit/AuditChain.swift, written from its
description, and `audit verify` only passes if both agree byte for byte.

Canonical encoding (AuditChain.canonical): `seq` first, then every column of AuditChain.columns in
order; each as one type tag byte (0 null, 1 text, 2 integer, 3 real, 4 blob), a 4-byte big-endian
length and the bytes (text UTF-8, integers 8-byte big-endian two's complement, reals the 8-byte
big-endian IEEE-754 bit pattern). hash = SHA-256(prev_hash || encoding); the first row's prev_hash is
32 zero bytes (genesis).

Data is shaped like a real gateway log: ~50 users, sources mcp / oauth / cli, a few apps and
environments, tools, allow / deny, HTTP status, duration_ms as REAL, timestamps spread evenly over
the last --days days (so `--since 1d` selects about 1/days of the rows) and increasing with seq.

Usage: fill_audit.py --db PATH [--rows 1000000] [--days 30] [--users 50] [--seed 1]
       fill_audit.py --db PATH --verify     # walk the chain in Python (hashlib), print rows and rows/s
"""
import argparse
import hashlib
import os
import random
import sqlite3
import string
import struct
import sys
import time

# AuditChain.columns, in chain order. Keep in sync with Sources/MCPAuth/Audit/AuditChain.swift.
COLUMNS = ["at", "source", "action", "actor", "email", "token_id", "client_id", "app", "env",
           "method", "tool", "decision", "reason", "status", "duration_ms", "remote_addr",
           "target", "args_digest"]
GENESIS = bytes(32)

_NULL = b"\x00\x00\x00\x00\x00"
_INT_HEAD = b"\x02\x00\x00\x00\x08"
_REAL_HEAD = b"\x03\x00\x00\x00\x08"
_pack_q = struct.Struct(">q").pack
_pack_d = struct.Struct(">d").pack
_pack_I = struct.Struct(">I").pack
_text_cache = {}


def encode_value(v):
    """One column of the canonical encoding."""
    if v is None:
        return _NULL
    if isinstance(v, bool):
        raise TypeError("booleans are not SQL values")
    if isinstance(v, int):
        return _INT_HEAD + _pack_q(v)
    if isinstance(v, float):
        return _REAL_HEAD + _pack_d(v)
    if isinstance(v, str):
        e = _text_cache.get(v)
        if e is None:
            b = v.encode("utf-8")
            e = b"\x01" + _pack_I(len(b)) + b
            if len(_text_cache) < 200_000:
                _text_cache[v] = e
        return e
    if isinstance(v, (bytes, bytearray)):
        return b"\x04" + _pack_I(len(v)) + bytes(v)
    raise TypeError(f"unsupported value {v!r}")


def canonical(seq, values):
    return _INT_HEAD + _pack_q(seq) + b"".join(map(encode_value, values))


def chain_hash(prev, seq, values):
    h = hashlib.sha256(prev)
    h.update(canonical(seq, values))
    return h.digest()


# Fast path for the bulk load: one encoder per column, chosen from the column's SQL type, with the
# encodings of repeated texts memoised. Same bytes as encode_value (checked on the first rows).
def _enc_text(v, _get=_text_cache.get):
    e = _get(v)
    return e if e is not None else encode_value(v)


def _enc_int(v):
    return _NULL if v is None else _INT_HEAD + _pack_q(v)


def _enc_real(v):
    return _NULL if v is None else _REAL_HEAD + _pack_d(v)


_text_cache[None] = _NULL
_COLUMN_ENCODERS = [{"at": _enc_int, "status": _enc_int, "duration_ms": _enc_real}.get(c, _enc_text) for c in COLUMNS]


def canonical_fast(seq, values):
    return _INT_HEAD + _pack_q(seq) + b"".join([f(v) for f, v in zip(_COLUMN_ENCODERS, values)])


# ---------------------------------------------------------------------------------------------------
# Realistic-looking data

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def b62(rng, n):
    return "".join(rng.choice(B62) for _ in range(n))


def make_world(rng, users):
    first = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
             "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda"]
    emails = []
    for i in range(users):
        emails.append(f"{first[i % len(first)]}{'' if i < len(first) else i // len(first) + 1}@example.com")
    tokens = {e: ["tok_" + b62(rng, 16) for _ in range(rng.randint(1, 3))] for e in emails}
    clients = ["client_" + b62(rng, 22) for _ in range(20)]
    apps = {
        "notes": (["production", "staging"], [("search_notes", "read"), ("read_note", "read"), ("create_note", "write"),
                                             ("update_note", "write"), ("delete_note", "delete")]),
        "github": (["production"], [("list_issues", "read"), ("get_file", "read"), ("create_issue", "write"),
                                    ("create_pull_request", "write"), ("merge_pull_request", "delete")]),
        "crm": (["production", "staging", "dev"], [("find_contact", "read"), ("list_deals", "read"),
                                                   ("update_contact", "write"), ("delete_contact", "delete")]),
        "postgres": (["analytics"], [("query", "read"), ("describe_table", "read"), ("execute", "delete")]),
        "mcpctl": (["local"], [("whoami", "read"), ("audit_query", "read"), ("list_my_tokens", "read"),
                               ("can_i", "read")]),
    }
    addrs = [f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(200)] + \
            ["127.0.0.1", "::1"]
    # Zipf-like activity: a few users make most of the traffic.
    weights = [1.0 / (i + 1) ** 0.8 for i in range(users)]
    return emails, weights, tokens, clients, apps, addrs


def rows(rng, n, start_ms, end_ms, world):
    """Yields the AuditChain.columns values of n events, oldest first, `at` increasing."""
    emails, weights, tokens, clients, apps, addrs = world
    step = (end_ms - start_ms) / max(n, 1)
    # Pre-drawn pools, picked from with one random() each: much faster than random.choice per field.
    email_pool = rng.choices(emails, weights, k=min(max(n, 1), 100_000))
    app_weights = {"notes": 5, "github": 3, "crm": 2, "postgres": 1, "mcpctl": 1}
    places = []  # (app, env, tools) weighted by app popularity
    for app, (envs, tools) in apps.items():
        for env in envs:
            places += [(app, env, [t for t, _ in tools])] * (app_weights.get(app, 1) * 6 // len(envs))
    mcp_methods = ["tools/call"] * 14 + ["tools/list"] * 3 + ["initialize", "ping", "resources/list", "prompts/list"]
    cli_actions = ["token.create", "token.revoke", "token.rotate", "grant.add", "grant.revoke", "user.add",
                   "client.revoke", "app.add"]
    oauth_actions = ["oauth.authorize", "oauth.token", "oauth.token", "oauth.refresh", "oauth.register", "oauth.revoke"]
    durations = [round(0.2 + rng.lognormvariate(2.5, 1.0), 3) for _ in range(4096)]
    oauth_durations = [round(1.0 + rng.lognormvariate(1.5, 0.8), 3) for _ in range(4096)]
    getrandbits = rng.getrandbits
    random_ = rng.random

    def pick(seq):
        return seq[int(random_() * len(seq))]

    for i in range(n):
        at = start_ms + int(i * step) + int(random_() * step * 0.9)
        email = email_pool[i % len(email_pool)]
        r = random_()
        if r < 0.88:  # gateway traffic
            app, env, tools = pick(places)
            method = pick(mcp_methods)
            tool = None
            args_digest = None
            if method == "tools/call":
                tool = pick(tools)
                args_digest = "%064x" % getrandbits(256)
            r2 = random_()
            if r2 < 0.04:
                status = 403 if r2 < 0.028 else 401
                decision = "deny"
                reason = "insufficient_scope: needs write" if status == 403 else "token expired"
            else:
                status = 200 if r2 < 0.995 else 502
                decision = "allow"
                reason = None
            yield (at, "mcp", method, None, email, pick(tokens[email]),
                   pick(clients) if random_() < 0.35 else None, app, env, method, tool, decision, reason,
                   status, pick(durations), pick(addrs), None, args_digest)
        elif r < 0.97:  # OAuth endpoints
            action = pick(oauth_actions)
            deny = random_() < 0.06
            yield (at, "oauth", action, None, email, pick(tokens[email]) if action != "oauth.register" else None,
                   pick(clients), None, None, None, None, "deny" if deny else "allow",
                   "invalid_grant" if deny else None, 400 if deny else 200,
                   pick(oauth_durations), pick(addrs), None, None)
        else:  # operator CLI
            action = pick(cli_actions)
            yield (at, "cli", action, "root", email, pick(tokens[email]) if action.startswith("token.") else None,
                   None, None, None, None, None, "allow", None, None, None, None,
                   pick(tokens[email]) if action == "token.rotate" else None, None)


def verify(path):
    """Independent chain check (same rules as `mcpctl audit verify` for an intact log): returns (ok, rows, message)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.execute("BEGIN")
    head = con.execute("SELECT seq, hash, pruned_before_seq, pruned_prev_hash FROM audit_head WHERE id = 1").fetchone()
    head_seq, head_hash = (head[0], bytes(head[1])) if head else (0, GENESIS)
    expected = max(1, head[2] if head else 1)
    prev = bytes(head[3]) if head and head[3] is not None else GENESIS
    rows = 0
    cur = con.execute("SELECT seq, " + ", ".join(COLUMNS) + ", prev_hash, hash FROM audit ORDER BY seq")
    sha256 = hashlib.sha256
    for r in cur:
        seq = r[0]
        if seq != expected:
            return False, rows, f"row {expected} missing or unexpected row {seq}"
        if bytes(r[-2]) != prev:
            return False, rows, f"row {seq} does not link to row {seq - 1}"
        h = sha256(prev)
        h.update(canonical(seq, r[1:-2]))
        d = h.digest()
        if d != bytes(r[-1]):
            return False, rows, f"row {seq} hash mismatch"
        prev = d
        expected += 1
        rows += 1
    if head_seq != expected - 1 or (head_seq > 0 and head_hash != prev):
        return False, rows, f"head {head_seq} does not match the log end {expected - 1}"
    return True, rows, f"OK: {rows} rows"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=os.environ.get("MCPCTL_DB"), help="store path (default $MCPCTL_DB)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--print-users", action="store_true", help="print the generated emails, most active first, and exit")
    ap.add_argument("--verify", action="store_true", help="verify the chain in Python instead of filling")
    a = ap.parse_args()
    if a.verify:
        t = time.monotonic()
        ok, n, message = verify(a.db)
        dt = time.monotonic() - t
        print(f"{message} in {dt:.2f}s ({n / dt:,.0f} rows/s)")
        return 0 if ok else 1

    rng = random.Random(a.seed)
    world = make_world(rng, a.users)
    if a.print_users:
        try:
            print("\n".join(world[0]))
        except BrokenPipeError:  # `| head -1`
            sys.stderr.close()
        return 0
    if not a.db:
        ap.error("--db PATH or MCPCTL_DB is required")
    if not os.path.exists(a.db):
        sys.exit(f"error: {a.db} does not exist; create it with 'mcpctl init' first")

    t0 = time.monotonic()
    con = sqlite3.connect(a.db, isolation_level=None)
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"audit", "audit_head", "users"} <= have:
        sys.exit(f"error: {a.db} has no mcpctl schema; run 'mcpctl init' on it first")
    cols = [r[1] for r in con.execute("PRAGMA table_info(audit)")]
    missing = [c for c in COLUMNS + ["seq", "prev_hash", "hash"] if c not in cols]
    if missing:
        sys.exit(f"error: audit table lacks columns {missing}")
    con.execute("PRAGMA busy_timeout = 10000")
    con.execute("PRAGMA synchronous = OFF")       # bulk load of a throwaway store; mcpctl uses FULL
    con.execute("PRAGMA cache_size = -262144")   # 256 MiB
    con.execute("PRAGMA temp_store = MEMORY")
    con.execute("PRAGMA threads = 4")            # parallel sorter for the index rebuild
    con.execute("BEGIN IMMEDIATE")
    head = con.execute("SELECT seq, hash, pruned_before_seq FROM audit_head WHERE id = 1").fetchone()
    seq, prev = (head[0], bytes(head[1])) if head else (0, GENESIS)
    last = con.execute("SELECT max(seq) FROM audit").fetchone()[0] or 0
    if last != seq:
        sys.exit(f"error: audit_head says seq {seq} but the log ends at {last}; refusing to extend a broken chain")

    now_ms = int(time.time() * 1000)
    start_ms = now_ms - int(a.days * 86_400_000)
    end_ms = now_ms - 1000

    # Indexes are rebuilt once at the end from their own stored SQL (same schema, much faster load).
    indexes = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' "
                          "AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')

    con.executemany("INSERT OR IGNORE INTO users (email, created_at) VALUES (?, ?)",
                    [(e, start_ms) for e in world[0]])

    insert = ("INSERT INTO audit (seq, " + ", ".join(COLUMNS) + ", prev_hash, hash) VALUES (" +
              ", ".join("?" * (len(COLUMNS) + 3)) + ")")
    state = {"seq": seq, "prev": prev}
    sha256 = hashlib.sha256

    def chained():
        s = state["seq"]
        p = state["prev"]
        for values in rows(rng, a.rows, start_ms, end_ms, world):
            s += 1
            enc = canonical_fast(s, values)
            if s - seq <= 1000:
                assert enc == canonical(s, values), f"fast encoding differs at seq {s}"
            h = sha256(p)
            h.update(enc)
            d = h.digest()
            yield (s,) + values + (p, d)
            p = d
            if s % 200_000 == 0:
                print(f"  {s - seq:>9} rows  {time.monotonic() - t0:6.1f}s", file=sys.stderr)
        state["seq"], state["prev"] = s, p

    con.executemany(insert, chained())
    t1 = time.monotonic()
    for name, sql in indexes:
        con.execute(sql)
    con.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (state["seq"], state["prev"]))
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    t2 = time.monotonic()
    print(f"filled {a.rows} rows (seq {seq + 1}..{state['seq']}) in {t2 - t0:.1f}s "
          f"(insert {t1 - t0:.1f}s, indexes {t2 - t1:.1f}s); head {state['seq']}:{state['prev'].hex()}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
