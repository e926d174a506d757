#!/usr/bin/env python3
"""Runs the documentation's shell examples as written, in order, against a throwaway HOME and store.

    run_examples.py --bin MCPCTL [--readme README.md] [--man man/mcpctl.1]

README.md: every fenced block whose info string is `sh` or `bash`. A block preceded by the line
`<!-- example: skip: REASON -->` is reported as skipped (keep these few: only what CI lacks, such as
installing into the system). The man page: every "Examples:" block (.nf … .fi).

The blocks of one document run in one bash process, so a variable set in one example (T=$(…)) is
there for the next, as for a reader who types them in order. `mcpctl` is a shell function that runs
--bin. Each command line is checked on its own: it fails the run when it exits non-zero, unless its
comment announces that exit code (the numbers after "exit" or "exits" in it: "# exit 1 if …, 2 if …").
Long-running commands (`mcpctl serve`, `audit tail -f`) run in the background; a serve is waited for on
its listen address and stopped before the next one starts, or before a command whose comment says
"with the server stopped".

Prints one line per command and a summary; exits 1 if any command failed, 2 on a usage error.
"""
import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile

SKIP = re.compile(r"^<!--\s*example:\s*skip:?\s*(.*?)\s*-->\s*$")
FENCE_OPEN = re.compile(r"^```(sh|bash|shell)\s*$")
ANNOUNCED = re.compile(r"#.*?\bexits?\b(.*)$")
STOPPED = re.compile(r"#.*\bwith the server stopped\b")
SERVE = re.compile(r"\bmcpctl\s+serve\b(?!.*--help)")
FOLLOW = re.compile(r"\bmcpctl\s+audit\s+tail\b.*\s-f\b")
SELF = re.compile(r"^\s*bash\s+\.ci/(test|run)\b")
SWIFT_RUN = re.compile(r"\bswift\s+run\s+(-c\s+release\s+)?mcpctl\b")


class Example:
    def __init__(self, source, line, text, skip=None):
        self.source, self.line, self.text, self.skip = source, line, text, skip


def readme_blocks(path):
    """(first line number, lines, skip reason or None) for every shell block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, i, previous = [], 0, ""
    while i < len(lines):
        if FENCE_OPEN.match(lines[i]):
            m = SKIP.match(previous.strip())
            start, body = i + 2, []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            blocks.append((start, body, m.group(1) if m else None))
        elif lines[i].strip():
            previous = lines[i]
        i += 1
    return blocks


def man_blocks(path):
    """The "Examples:" blocks of a man page, with roff escapes undone."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "Examples:":
            while i < len(lines) and lines[i].strip() != ".nf":
                i += 1
            start, body = i + 2, []
            i += 1
            while i < len(lines) and lines[i].strip() != ".fi":
                body.append(lines[i].replace("\\-", "-").replace("\\e", "\\").replace("\\(aq", "'"))
                i += 1
            blocks.append((start, body, None))
        i += 1
    return blocks


def logical_lines(start, body):
    """Joins backslash continuations; drops blank and comment-only lines. Yields (line number, text)."""
    pending, first = "", None
    for n, raw in enumerate(body, start=start):
        if not pending and (not raw.strip() or raw.strip().startswith("#")):
            continue
        if first is None:
            first = n
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        yield first, pending + raw
        pending, first = "", None
    if pending:
        yield first, pending


def announced_codes(text):
    m = ANNOUNCED.search(text)
    return sorted({int(c) for c in re.findall(r"\b\d{1,3}\b", m.group(1))}) if m else []


def listen_address(text):
    m = re.search(r"--listen[ =](\S+)", text)
    host, _, port = (m.group(1) if m else "127.0.0.1:8000").rpartition(":")
    host = host.strip("[]")
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    return host, port


PRELUDE = r"""
set +e -o pipefail
mcpctl() { "$MCPCTL_BIN" "$@"; }
__failed=0; __ran=0; __serve=""; __bg=""
# SIGTERM, then SIGKILL after 10 s: a test runner may start us with SIGTERM ignored, and an ignored
# signal stays ignored in every child.
__stop() {
  local i
  kill -TERM "$1" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null
}
__stop_serve() { if [ -n "$__serve" ]; then __stop "$__serve"; __serve=""; fi; }
__stop_bg() { for p in $__bg; do __stop "$p"; done; __bg=""; }
trap '__stop_serve; __stop_bg' EXIT
__check() { # RC WHERE ALLOWED... ; reads the command from $__cmd
  local rc=$1 where=$2; shift 2
  __ran=$((__ran + 1))
  if [ "$rc" -eq 0 ]; then echo "ok    $where"; return; fi
  for a in "$@"; do if [ "$rc" -eq "$a" ]; then echo "ok    $where (exit $rc, announced)"; return; fi; done
  echo "FAIL  $where: exit $rc: $__cmd"
  __failed=$((__failed + 1))
}
__wait_http() { # HOST PORT WHERE LOG
  local i
  for i in $(seq 1 300); do
    if ! kill -0 "$__serve" 2>/dev/null; then
      echo "FAIL  $3: the server exited: $(tail -n 5 "$4" | tr '\n' ' ')"; __failed=$((__failed + 1)); __serve=""; return
    fi
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then echo "ok    $3 (serving on $1:$2)"; __ran=$((__ran + 1)); return; fi
    sleep 0.1
  done
  echo "FAIL  $3: nothing listens on $1:$2 after 30 s"; __failed=$((__failed + 1))
}
"""


def script_for(source, blocks, workdir, report):
    out = [PRELUDE]
    for start, body, skip in blocks:
        if skip is not None:
            report.append(f"skip  {source}:{start - 1}: {skip}")
            continue
        for n, text in logical_lines(start, body):
            where = f"{source}:{n}"
            if SELF.match(text):
                report.append(f"skip  {where}: the test command itself")
                continue
            if SWIFT_RUN.search(text):
                text = SWIFT_RUN.sub("mcpctl", text)
                report.append(f"note  {where}: `swift run … mcpctl` runs the binary under test")
            out.append(f"__cmd={shlex.quote(text)}")
            # A background command runs as the process itself (exec), so stopping it stops mcpctl, not a
            # subshell that would leave it running with the store's lock.
            background = re.sub(r"^\s*mcpctl\b", 'exec "$MCPCTL_BIN"', text)
            if SERVE.search(text):
                host, port = listen_address(text)
                log = os.path.join(workdir, f"serve-{n}.log")
                out.append("__stop_serve")
                out.append(f"{{ {background}\n}} >{shlex.quote(log)} 2>&1 &")  # the newline ends a trailing comment
                out.append("__serve=$!")
                out.append(f"__wait_http {host} {port} {shlex.quote(where)} {shlex.quote(log)}")
            elif FOLLOW.search(text):
                out.append(f"{{ {background}\n}} >/dev/null 2>&1 &")
                out.append(f'__bg="$__bg $!"; sleep 1; echo "ok    {where} (followed for 1 s)"')
            else:
                if STOPPED.search(text):
                    out.append("__stop_serve")  # the text says to stop the server first
                codes = " ".join(str(c) for c in announced_codes(text))
                out.append(text)
                out.append(f"__check $? {shlex.quote(where)} {codes}")
    out.append("__stop_serve; __stop_bg")
    out.append('echo "$__ran commands, $__failed failed"; [ "$__failed" -eq 0 ]')
    return "\n".join(out) + "\n"


def run(source, blocks, binary):
    report = []
    with tempfile.TemporaryDirectory(prefix="mcpctl-examples-") as home:
        work = os.path.join(home, "work")
        os.makedirs(work)
        script = script_for(source, blocks, home, report)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MCPCTL_") and k != "XDG_DATA_HOME"}
        env.update(HOME=home, MCPCTL_BIN=binary, NO_COLOR="1")
        for line in report:
            print(line)
        # A session of its own, so whatever an example leaves running is stopped with it.
        p = subprocess.Popen(["bash", "-c", script], cwd=work, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = p.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            output = None
        finally:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if output is None:
            p.communicate()
            print(f"FAIL  {source}: the examples did not finish within 600 s")
            return False
        # The examples' own output is interleaved; show only the harness's verdict lines and errors.
        if os.environ.get("EXAMPLES_VERBOSE"):
            print(output)
        for line in output.splitlines():
            if re.match(r"^(ok|FAIL|skip|note)\s{1,4}|^\d+ commands, \d+ failed$|^Error: ", line):
                print(line)
        return p.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the mcpctl binary to run as `mcpctl`")
    ap.add_argument("--readme", help="a Markdown file whose sh/bash blocks to run")
    ap.add_argument("--man", help="a man page whose Examples blocks to run")
    args = ap.parse_args()
    if not (args.readme or args.man):
        ap.error("give --readme and/or --man")
    if not os.access(args.bin, os.X_OK):
        ap.error(f"--bin {args.bin} is not executable")
    ok = True
    if args.readme:
        ok &= run(os.path.basename(args.readme), readme_blocks(args.readme), os.path.abspath(args.bin))
    if args.man:
        ok &= run(os.path.basename(args.man), man_blocks(args.man), os.path.abspath(args.bin))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
