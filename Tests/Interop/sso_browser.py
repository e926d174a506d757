#!/usr/bin/env python3
"""Single sign-on in a real headless Chromium: mcpctl's sign-in pages, the "Sign in with NAME" link, the
real login page of a real OpenID Connect provider (django-oauth-toolkit, Tests/Interop/idp/serve_idp.py),
and back. Runs with ``.venv-mcp2`` (selenium).

    .venv-mcp2/bin/python sso_browser.py --base http://127.0.0.1:8000 --idp corp --user alice --password '…' SCENARIO

Scenarios (each prints one JSON object of observations, keys sorted; the caller judges them):
    signin   /login shows "Sign in with corp"; click it, sign in at the provider; where the browser lands
             (path, heading, message, whether the page names --email)
    oauth    an MCP client's authorization request (registered with RFC 7591): on its sign-in page click
             "Sign in with corp", sign in at the provider, approve on the consent page; the code is exchanged
             at the token endpoint and the access token used at --mcp-url (initialize)
    replay   without a browser: one sign-in through the provider with a plain HTTP client, keeping the
             callback URL; then that URL again (same cookies), and once more from a client without them
Exit 0 when the scenario ran to the end, 4 with {"error": …} otherwise. Secrets are never printed.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.cookiejar
import json
import os
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from browser_support import DRIVERS, NoRedirect as _NoRedirect, browser, emit  # noqa: F401


def opener(jar: http.cookiejar.CookieJar | None) -> urllib.request.OpenerDirector:
    handlers: list[Any] = [_NoRedirect]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    return urllib.request.build_opener(*handlers)


def fetch(op: urllib.request.OpenerDirector, method: str, url: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with op.open(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------------------
# The browser

def sign_in_at_provider(driver: Any, args: argparse.Namespace, out: dict[str, Any]) -> None:
    """Clicks "Sign in with IDP" on the current mcpctl page and signs in on the provider's own login page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 30)
    link = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'a[data-idp="{args.idp}"]')))
    out["button_text"] = link.text
    link.click()
    wait.until(EC.presence_of_element_located((By.ID, "id_username"))).send_keys(args.user)
    out["provider_login_host"] = urllib.parse.urlparse(driver.current_url).netloc
    driver.find_element(By.ID, "id_password").send_keys(args.password)
    base_host = urllib.parse.urlparse(args.base).netloc
    driver.find_element(By.ID, "idp-submit").click()
    wait.until(lambda d: urllib.parse.urlparse(d.current_url).netloc == base_host and d.find_elements(By.TAG_NAME, "h1"))


def page_facts(driver: Any, args: argparse.Namespace) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    text = driver.find_element(By.TAG_NAME, "body").text
    return {"path": urllib.parse.urlparse(driver.current_url).path, "h1": driver.find_element(By.TAG_NAME, "h1").text,
            "shows_email": bool(args.email) and args.email in text, "text": text[:400]}


def scenario_signin(args: argparse.Namespace) -> None:
    out: dict[str, Any] = {}
    driver = browser()
    driver.get(args.base + "/login?next=%2Faccount")
    sign_in_at_provider(driver, args, out)
    out.update(page_facts(driver, args))
    emit(out, 0)


def scenario_oauth(args: argparse.Namespace) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    out: dict[str, Any] = {}
    op = opener(None)
    redirect_uri = "http://127.0.0.1:9/callback"  # nothing listens: the code is read from the address bar
    reg = {"client_name": "SSO interop client", "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none",
           "grant_types": ["authorization_code"], "response_types": ["code"]}
    status, _, body = fetch(op, "POST", args.base + "/oauth/register", json.dumps(reg).encode(), {"Content-Type": "application/json"})
    if status != 201:
        emit({"error": f"registration answered {status}: {body[:300]}"}, 4)
    client_id = json.loads(body)["client_id"]
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": state,
                                    "code_challenge": challenge, "code_challenge_method": "S256", "resource": args.mcp_url,
                                    "scope": "read write"})
    driver = browser()
    driver.get(args.base + "/oauth/authorize?" + query)
    out["oauth_sign_in_page"] = bool(driver.find_elements(By.NAME, "password"))
    sign_in_at_provider(driver, args, out)
    approve = WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'button[name="decision"][value="approve"]')))
    out["consent_page"] = True
    out["consent_names_email"] = bool(args.email) and args.email in driver.find_element(By.TAG_NAME, "body").text
    approve.click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.startswith(redirect_uri))
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(driver.current_url).query))
    out["state_ok"] = params.get("state") == state
    if "code" not in params:
        emit({**out, "error": f"no code: {params.get('error')}"}, 4)
    form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": params["code"], "code_verifier": verifier,
                                   "redirect_uri": redirect_uri, "client_id": client_id, "resource": args.mcp_url}).encode()
    status, _, body = fetch(op, "POST", args.base + "/oauth/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
    out["token_status"] = status
    if status != 200:
        emit({**out, "error": f"token endpoint answered {status}: {body[:300]}"}, 4)
    tokens = json.loads(body)
    out["scope"] = tokens.get("scope")
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "sso-test", "version": "1"}}}
    status, _, _ = fetch(op, "POST", args.mcp_url, json.dumps(init).encode(),
                         {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                          "Authorization": "Bearer " + tokens["access_token"]})
    out["gateway_status"] = status
    emit(out, 0)


def scenario_replay(args: argparse.Namespace) -> None:
    out: dict[str, Any] = {}
    jar = http.cookiejar.CookieJar()
    op = opener(jar)
    base_host = urllib.parse.urlparse(args.base).netloc
    url = args.base + f"/login/sso/{args.idp}?next=%2Faccount"
    callback = None
    for _ in range(12):
        status, headers, body = fetch(op, "GET", url)
        if status in (301, 302, 303):
            url = urllib.parse.urljoin(url, headers["Location"])
            if urllib.parse.urlparse(url).netloc == base_host and "/callback" in url:
                callback = url
                break
            continue
        m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        nxt = re.search(r'name="next" value="([^"]*)"', body)
        if status != 200 or not m or not nxt:
            emit({"error": f"unexpected provider page {status} at {url}"}, 4)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": m.group(1), "username": args.user, "password": args.password,
                                       "next": nxt.group(1).replace("&amp;", "&")}).encode()
        status, headers, body = fetch(op, "POST", url.split("?")[0], form,
                                      {"Content-Type": "application/x-www-form-urlencoded", "Referer": url})
        if status not in (301, 302, 303):
            emit({"error": f"provider sign-in answered {status}"}, 4)
        url = urllib.parse.urljoin(url, headers["Location"])
    if callback is None:
        emit({"error": "never reached the callback"}, 4)
    status, headers, _ = fetch(op, "GET", callback)
    out["first_status"], out["first_location"] = status, headers.get("Location")
    status, _, body = fetch(op, "GET", callback)
    out["replay_status"], out["replay_refused"] = status, "Sign-in refused" in body
    status, _, body = fetch(opener(http.cookiejar.CookieJar()), "GET", callback)
    out["other_browser_status"], out["other_browser_refused"] = status, "Sign-in refused" in body
    emit(out, 0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True)
    p.add_argument("--idp", required=True)
    p.add_argument("--user", required=True, help="the username at the provider")
    p.add_argument("--password", required=True)
    p.add_argument("--email", default="", help="the email the page should name")
    p.add_argument("--mcp-url", default="")
    p.add_argument("scenario", choices=["signin", "oauth", "replay"])
    args = p.parse_args()
    {"signin": scenario_signin, "oauth": scenario_oauth, "replay": scenario_replay}[args.scenario](args)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        emit({"error": f"{type(e).__name__}: {e}"}, 4)
