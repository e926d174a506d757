#!/usr/bin/env python3
"""A real headless Chromium through mcpctl's login and consent pages (OAuth interoperability test).

Acts as an OAuth client that knows only the MCP URL: reads the protected-resource metadata
(RFC 9728) and the authorization server metadata (RFC 8414), registers (RFC 7591), and opens
the authorization URL (PKCE S256, RFC 8707 resource, scope ``read write delete``) in Chromium.
Chromium logs in, unticks the scopes given with ``--untick`` on the consent page, approves,
and is redirected to a loopback callback served here. The code is exchanged, and the access
token is then tried with the MCP Python SDK (``client_check.py``, same interpreter): a read
tool and a write tool.

    .venv-mcp2/bin/python oauth_browser.py --url http://127.0.0.1:8000/mcp/notes/dev \\
        --email alice@example.com --password '…' [--untick write] \\
        [--read-tool search_notes --read-args '{"query": "milk"}'] [--write-tool add_note --write-args '{"text": "x"}']

stdout: one JSON object (keys sorted): ``scope`` (granted), ``offered`` (checkboxes shown),
``iss``, ``state_ok``, ``read`` and ``write`` (client_check.py results with their ``exit``),
``page_headers`` (security headers of the login page). Exit 0 when the browser flow completed
(the caller judges the results), 4 on any failure with {"error": ...}.
Needs Debian's chromium and chromium-driver (.ci/setup-browser); never downloads a driver.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


def emit(obj: dict[str, Any], code: int) -> None:
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()
    os._exit(code)


def http(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read()


def get_json(url: str) -> Any:
    status, _, body = http("GET", url)
    if status != 200:
        raise RuntimeError(f"GET {url} answered {status}")
    return json.loads(body)


class Callback(BaseHTTPRequestHandler):
    """The client's loopback redirect URI (RFC 8252 §7.3)."""

    result: dict[str, str] = {}
    done = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        q = urllib.parse.urlparse(self.path)
        if q.path == "/callback":
            Callback.result = {k: v[0] for k, v in urllib.parse.parse_qs(q.query).items()}
            Callback.done.set()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!DOCTYPE html><title>done</title><p>You can close this window.</p>")

    def log_message(self, *args: Any) -> None:
        pass


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
              "--password-store=basic", f"--user-data-dir={tempfile.mkdtemp(prefix='mcpctl-chromium-')}"):
        options.add_argument(a)
    # Selenium Manager would try to download a driver: point at Debian's.
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--untick", action="append", default=[])
    p.add_argument("--scope", default="read write delete")
    p.add_argument("--read-tool", default="search_notes")
    p.add_argument("--read-args", default='{"query": "milk"}')
    p.add_argument("--write-tool", default="add_note")
    p.add_argument("--write-args", default='{"text": "written by the browser test"}')
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    out: dict[str, Any] = {}
    # Discovery, knowing only the MCP URL: the 401 challenge names the resource metadata.
    status, headers, _ = http("POST", args.url, b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}',
                              {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
    challenge = {k.lower(): v for k, v in headers.items()}.get("www-authenticate", "")
    if status != 401 or "resource_metadata=" not in challenge:
        emit({"error": f"expected 401 with resource_metadata, got {status} {challenge!r}"}, 4)
    prm_url = challenge.split('resource_metadata="', 1)[1].split('"', 1)[0]
    prm = get_json(prm_url)
    issuer = prm["authorization_servers"][0]
    asm = get_json(issuer.rstrip("/") + "/.well-known/oauth-authorization-server")
    if asm["issuer"] != issuer:
        emit({"error": "issuer mismatch"}, 4)

    server = HTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    reg = {"client_name": "Chromium interop test", "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none",
           "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}
    status, _, body = http("POST", asm["registration_endpoint"], json.dumps(reg).encode(), {"Content-Type": "application/json"})
    if status != 201:
        emit({"error": f"registration answered {status}: {body[:300]!r}"}, 4)
    client_id = json.loads(body)["client_id"]

    verifier = secrets.token_urlsafe(64)[:96]
    challenge_s256 = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                                    "state": state, "code_challenge": challenge_s256, "code_challenge_method": "S256",
                                    "resource": prm["resource"], "scope": args.scope})
    authorize_url = asm["authorization_endpoint"] + "?" + query
    _, login_headers, _ = http("GET", authorize_url)
    out["page_headers"] = {k: v for k, v in login_headers.items()
                           if k.lower() in ("content-security-policy", "x-frame-options", "referrer-policy", "cache-control")}

    driver = browser()
    try:
        wait = WebDriverWait(driver, args.timeout)
        driver.get(authorize_url)
        wait.until(EC.presence_of_element_located((By.NAME, "email"))).send_keys(args.email)
        driver.find_element(By.NAME, "password").send_keys(args.password)
        driver.find_element(By.NAME, "password").submit()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'button[name="decision"][value="approve"]')))
        boxes = driver.find_elements(By.CSS_SELECTOR, 'input[type="checkbox"][name="scope"]')
        out["offered"] = [b.get_attribute("value") for b in boxes]
        out["checked_by_default"] = [b.get_attribute("value") for b in boxes if b.is_selected()]
        for b in boxes:
            if b.get_attribute("value") in args.untick and b.is_selected():
                b.click()
        driver.find_element(By.CSS_SELECTOR, 'button[name="decision"][value="approve"]').click()
        if not Callback.done.wait(args.timeout):
            emit({**out, "error": "the browser never reached the callback", "page": driver.page_source[:500],
                  "url": driver.current_url}, 4)
        out["landed_on"] = urllib.parse.urlparse(driver.current_url)._replace(query="").geturl()
    finally:
        driver.quit()
        server.shutdown()

    cb = Callback.result
    out["state_ok"] = cb.get("state") == state
    out["iss"] = cb.get("iss")
    if "code" not in cb:
        emit({**out, "error": f"no code: {cb.get('error')}"}, 4)
    form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": cb["code"], "code_verifier": verifier,
                                   "redirect_uri": redirect_uri, "client_id": client_id, "resource": prm["resource"]}).encode()
    status, _, body = http("POST", asm["token_endpoint"], form, {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        emit({**out, "error": f"token endpoint answered {status}: {body[:300]!r}"}, 4)
    tokens = json.loads(body)
    out["scope"] = tokens.get("scope")

    def check(tool: str, tool_args: str) -> dict[str, Any]:
        cmd = [sys.executable, os.path.join(HERE, "client_check.py"), "--url", args.url, "--mode", "legacy",
               "--header", "Authorization: Bearer " + tokens["access_token"], "call", tool, "--args", tool_args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout + 20)
        try:
            result = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            result = {"stdout": r.stdout[-300:], "stderr": r.stderr[-500:]}
        return {**result, "exit": r.returncode}

    # The gateway learns tool annotations from tools/list; list first so the scopes are known.
    check_list = subprocess.run([sys.executable, os.path.join(HERE, "client_check.py"), "--url", args.url, "--mode", "legacy",
                                 "--header", "Authorization: Bearer " + tokens["access_token"], "list-tools"],
                                capture_output=True, text=True, timeout=args.timeout + 20)
    out["tools"] = (json.loads(check_list.stdout.strip().splitlines()[-1]) if check_list.stdout.strip() else {}).get("tools")
    out["read"] = check(args.read_tool, args.read_args)
    out["write"] = check(args.write_tool, args.write_args)
    emit(out, 0)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        emit({"error": f"{type(e).__name__}: {e}"}, 4)
