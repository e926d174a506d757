#!/usr/bin/env python3
"""Runs commands interleaved and prints their median wall and CPU times (bench/token-create.sh, bench/audit.sh).

Usage: harness.py CONFIG_JSON, where CONFIG_JSON is
    {"commands": {"name": [argv...], ...}, "runs": N, "warmup": W, "baseline": "name"}
Each round runs every command once as its own process, in ABBA order (the order flips every round, so no
command always runs first); the first W rounds are not counted. Prints a table (median, p25, p75 wall ms,
median user+sys CPU ms, ratio to the baseline's median) on stdout and the medians as JSON on stderr.
A command that exits non-zero stops the run.
"""
import json, resource, statistics, subprocess, sys, time

cfg = json.loads(sys.argv[1])
cmds, runs, warmup, base = cfg["commands"], cfg["runs"], cfg["warmup"], cfg["baseline"]


def once(argv):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter_ns()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t1 = time.perf_counter_ns()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {argv[:4]}…\n{p.stderr.decode(errors='replace')}")
    return (t1 - t0) / 1e6, (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3


names = list(cmds)
wall = {n: [] for n in names}
cpu = {n: [] for n in names}
for i in range(warmup + runs):
    order = names if i % 2 == 0 else names[::-1]
    for n in order:
        w, c = once(cmds[n])
        if i >= warmup:
            wall[n].append(w)
            cpu[n].append(c)


def q(xs, f):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(f * len(xs)))]


width = max(len("command"), *(len(n) for n in names)) + 2
bw = statistics.median(wall[base])
print(f"{'command':<{width}}{'runs':>5}{'median ms':>11}{'p25':>9}{'p75':>9}{'cpu ms':>9}{'ratio':>8}")
for n in names:
    mw = statistics.median(wall[n])
    mc = statistics.median(cpu[n])
    print(f"{n:<{width}}{len(wall[n]):>5}{mw:>11.2f}{q(wall[n], .25):>9.2f}{q(wall[n], .75):>9.2f}{mc:>9.2f}{mw / bw:>7.2f}x")
print(f"(ratio = median wall time / median of '{base}'; cpu ms = median user+sys CPU of the process)")
print(json.dumps({"median_ms": {n: round(statistics.median(wall[n]), 3) for n in names},
                  "cpu_median_ms": {n: round(statistics.median(cpu[n]), 3) for n in names}}), file=sys.stderr)
