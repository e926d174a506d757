#!/usr/bin/env python3
"""A real headless Chromium on mcpctl's self-service pages (/login, /account, /admin).

Each scenario signs a user in through the real login form, acts on the account pages the way a person
would (click the submit buttons named ``action``), and then checks the effect where it matters: at the
MCP gateway (with the MCP SDK's own client, ``client_check.py``, or a bare ``initialize``), at the OAuth
token endpoint, and in a second plain HTTP client. Runs with ``.venv-mcp2`` (mcp 2.x + selenium).

    .venv-mcp2/bin/python account_browser.py --base http://127.0.0.1:8000 --mcp-url http://127.0.0.1:8000/mcp/notes/dev \\
        --email alice@example.com --password '…' SCENARIO [options]

Scenarios (each prints one JSON object of observations, keys sorted; the caller judges them):
    tokens        /account without a session goes to /login?next=…; sign in; create a read-only token on the
                  page; use it (read works, write refused); rotate (with and without grace); revoke; log out
    applications  connect an OAuth client through the MCP SDK (oauth_client.py), find it on /account, revoke
                  it; its access token and refresh token are tried afterwards
    revoke-all    a page token, an OAuth client and a second browser session; "revoke everything"
    csrf          forged POSTs from a plain HTTP client carrying the session cookie; other users' and unknown
                  token ids; ``next=`` pointing off-site
    admin         an ordinary user at /admin; an operator (--operator-email/--operator-password) finds the
                  user's token and application under /admin, revokes --other-token-id, ends the user's
                  browser sessions and disables the user there
    session-save  sign in and write the browser's cookies to --cookies FILE
    session-check load --cookies FILE into a fresh Chromium and open /account
    hostile       connect an OAuth client registered with an HTML client name; look at /account (and /admin)
    screenshot    /account at desktop and phone widths, composed into one PNG at --out
    cookie        the session cookie a sign-in sets (no browser)
    limits        the expiries offered, and create POSTs past the expiry cap, beyond the grant, or without an env

Exit 0 when the scenario ran to the end, 4 with {"error": …, "url": …, "page": …} otherwise.
Secrets are never printed: observations say whether a secret had the right form, not what it was.
Needs Debian's chromium and chromium-driver (.ci/setup-browser); never downloads a driver.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from browser_support import DRIVERS, NoRedirect as _NoRedirect, browser, emit  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
PAT = re.compile(r"^mcp_pat_[0-9A-Za-z]{38}$")
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
OUT: dict[str, Any] = {}


# ---------------------------------------------------------------------------------------------------------
# Plain HTTP (no redirects followed: the 303s are part of the contract)

_OPENER = urllib.request.build_opener(_NoRedirect)


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status, self.header_list, self.body = status, headers, body
        self.text = body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.header_list if k.lower() == name.lower()), None)

    def headers(self, name: str) -> list[str]:
        return [v for k, v in self.header_list if k.lower() == name.lower()]


def http(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Response:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=30) as r:
            return Response(r.status, list(r.headers.items()), r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, list(e.headers.items()), e.read())


def form_fields(page: str, action_suffix: str | None = None) -> list[tuple[str, str]]:
    """The hidden inputs of the first form (or the first whose action ends with `action_suffix`)."""
    for m in re.finditer(r"<form\b([^>]*)>(.*?)</form>", page, re.S | re.I):
        attrs, body = m.group(1), m.group(2)
        action = re.search(r'action="([^"]*)"', attrs)
        if action_suffix and not (action and html.unescape(action.group(1)).split("?")[0].endswith(action_suffix)):
            continue
        out = []
        for inp in re.finditer(r"<input\b([^>]*)>", body, re.I):
            a = inp.group(1)
            if re.search(r'type="hidden"', a):
                n, v = re.search(r'name="([^"]*)"', a), re.search(r'value="([^"]*)"', a)
                if n:
                    out.append((html.unescape(n.group(1)), html.unescape(v.group(1)) if v else ""))
        return out
    return []


class Client:
    """A second, script-only browser: a cookie jar over plain HTTP (what a forging page could send).

    Cookies are kept per name and path and sent on the paths they cover (RFC 6265 §5.1.4, §5.4)."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[tuple[str, str], str] = {}

    def _cookie_header(self, path: str) -> dict[str, str]:
        def covers(p: str) -> bool:
            return path == p or path.startswith(p.rstrip("/") + "/")
        sent = sorted(((n, p, v) for (n, p), v in self.cookies.items() if covers(p)), key=lambda c: -len(c[1]))
        return {"Cookie": "; ".join(f"{n}={v}" for n, _, v in sent)} if sent else {}

    def _keep(self, r: Response, path: str) -> Response:
        for c in r.headers("Set-Cookie"):
            name, _, rest = c.partition("=")
            value = rest.split(";", 1)[0]
            m = re.search(r";\s*path=([^;]*)", c, re.I)
            key = (name.strip(), m.group(1).strip() if m else path.rsplit("/", 1)[0] or "/")
            if re.search(r";\s*max-age=0\b", c, re.I) or value == "":
                self.cookies.pop(key, None)
            else:
                self.cookies[key] = value
        return r

    def get(self, path: str) -> Response:
        bare = path.split("?", 1)[0]
        return self._keep(http("GET", self.base + path, headers=self._cookie_header(bare)), bare)

    def post(self, path: str, fields: list[tuple[str, str]]) -> Response:
        h = {"Content-Type": "application/x-www-form-urlencoded", **self._cookie_header(path)}
        return self._keep(http("POST", self.base + path, urllib.parse.urlencode(fields).encode(), h), path)

    def sign_in(self, email: str, password: str, next_path: str | None = None) -> Response:
        """Posts the sign-in form; `next_path` replaces the form's `next` as a forged link or form would."""
        page = self.get("/login")
        fields = [f for f in form_fields(page.text, "/login") if f[0] not in ("email", "password", "next")]
        if next_path is not None:
            fields.append(("next", next_path))
        return self.post("/login", fields + [("email", email), ("password", password)])

    def csrf(self, path: str = "/account") -> str:
        m = re.search(r'name="csrf" value="([^"]*)"', self.get(path).text)
        return html.unescape(m.group(1)) if m else ""


# ---------------------------------------------------------------------------------------------------------
# The MCP gateway and the OAuth token endpoint

def gateway_status(mcp_url: str, token: str) -> int:
    """HTTP status of a bare `initialize` with `Authorization: Bearer token` (200 alive, 401 dead)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "account-test", "version": "1"}}}
    return http("POST", mcp_url, json.dumps(body).encode(), {"Content-Type": "application/json",
                                                             "Accept": "application/json, text/event-stream",
                                                             "Authorization": "Bearer " + token}).status


def mcp_client(mcp_url: str, token: str, *action: str) -> dict[str, Any]:
    """client_check.py (the MCP SDK's client) with the token; its JSON plus `exit`."""
    cmd = [sys.executable, os.path.join(HERE, "client_check.py"), "--url", mcp_url, "--mode", "legacy", "--timeout", "40",
           "--header", "Authorization: Bearer " + token, *action]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    try:
        result = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {"stdout": r.stdout[-300:], "stderr": r.stderr[-500:]}
    return {**result, "exit": r.returncode}


def connect_oauth_client(args: argparse.Namespace, state: str, client_name: str) -> dict[str, Any]:
    """The MCP SDK's OAuthClientProvider through discovery, DCR, login and consent (oauth_client.py)."""
    cmd = [sys.executable, os.path.join(HERE, "oauth_client.py"), "--url", args.mcp_url, "--state", state,
           "--email", args.email, "--password", args.password, "--auth-method", "none", "--client-name", client_name,
           "--timeout", "60", "list-tools"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    try:
        result = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {"stdout": r.stdout[-300:], "stderr": r.stderr[-800:]}
    return {**result, "exit": r.returncode}


def stored_tokens(state: str) -> dict[str, Any]:
    with open(state) as f:
        data = json.load(f)
    return {"access_token": data["tokens"]["access_token"], "refresh_token": data["tokens"].get("refresh_token"),
            "client_id": data["client"]["client_id"]}


def refresh(base: str, refresh_token: str, client_id: str) -> dict[str, Any]:
    """A refresh_token grant (public client); status and the RFC 6749 §5.2 `error`."""
    form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}).encode()
    r = http("POST", base + "/oauth/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
    try:
        error = json.loads(r.body).get("error")
    except ValueError:
        error = None
    return {"status": r.status, "error": error}


# ---------------------------------------------------------------------------------------------------------
# The browser (browser_support.browser)

def by() -> Any:
    from selenium.webdriver.common.by import By
    return By


def path_of(driver: Any) -> str:
    return urllib.parse.urlparse(driver.current_url).path


def query_of(driver: Any) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(driver.current_url).query).items()}


def replaced(element: Any) -> Any:
    """A wait condition: `element`'s page has been replaced. Like Selenium's staleness_of, but chromedriver
    may also answer a question about a node of the page being replaced with "Node with given id does not
    belong to the document" (a generic error, not a stale-element one): that, too, means it is gone."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def check(_: Any) -> bool:
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
    return check


def click_and_wait(driver: Any, element: Any) -> None:
    """Clicks a submit button and waits until the next page has replaced this one."""
    from selenium.webdriver.support.ui import WebDriverWait

    from selenium.common.exceptions import WebDriverException

    old = driver.find_element(by().TAG_NAME, "html")
    try:
        element.click()
    except WebDriverException as e:
        # chromedriver sometimes reports on the clicked node after the click has already started the next
        # page ("Node with given id does not belong to the document"): the navigation is under way, wait for it.
        if "does not belong to the document" not in str(e):
            raise
    WebDriverWait(driver, 30).until(replaced(old))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in_on_page(driver: Any, email: str, password: str) -> None:
    """Fills the login form that is on screen and submits it."""
    B = by()
    driver.find_element(B.CSS_SELECTOR, 'input[type="email"][name="email"]').send_keys(email)
    pw = driver.find_element(B.CSS_SELECTOR, 'input[type="password"][name="password"]')
    pw.send_keys(password)
    old = driver.find_element(B.TAG_NAME, "html")
    pw.submit()
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 30).until(replaced(old))


def sign_in(driver: Any, base: str, email: str, password: str) -> None:
    driver.get(base + "/login")
    sign_in_on_page(driver, email, password)
    if path_of(driver) != "/account":
        driver.get(base + "/account")


def action_button(driver: Any, path_suffix: str, value: str) -> Any:
    """The submit button `name="action"` with `value` of the form posting to a path ending in `path_suffix`."""
    B = by()
    for form in driver.find_elements(B.TAG_NAME, "form"):
        action = urllib.parse.urlparse(form.get_attribute("action") or "").path
        if action.endswith(path_suffix):
            buttons = form.find_elements(B.CSS_SELECTOR, f'[name="action"][value="{value}"]')
            if buttons:
                return buttons[0]
    raise LookupError(f"no form posting to …{path_suffix} with a button action={value} on {path_of(driver)}")


def submit_action(driver: Any, path_suffix: str, value: str, fields: dict[str, str] | None = None) -> None:
    """Fills `fields` in that form and presses its button; a confirmation page asking for the same action is confirmed."""
    button = action_button(driver, path_suffix, value)
    form = button.find_element(by().XPATH, "./ancestor::form")
    for name, v in (fields or {}).items():
        set_field(form, name, v)
    click_and_wait(driver, button)
    try:
        again = action_button(driver, path_suffix, value)
    except LookupError:
        return
    if path_of(driver) != "/account" and "new-token" not in driver.page_source:
        click_and_wait(driver, again)


def set_field(form: Any, name: str, value: str) -> bool:
    """Sets a text input or picks a select option (by value, else by visible text); False if there is none."""
    B = by()
    from selenium.webdriver.support.ui import Select

    found = form.find_elements(B.CSS_SELECTOR, f'[name="{name}"]')
    if not found:
        return False
    el = found[0]
    if el.tag_name == "select":
        s = Select(el)
        try:
            s.select_by_value(value)
        except Exception:  # noqa: BLE001 - fall back to the label
            s.select_by_visible_text(value)
    else:
        el.clear()
        el.send_keys(value)
    return True


def rows(driver: Any, attribute: str) -> list[str]:
    return [e.get_attribute(attribute) for e in driver.find_elements(by().CSS_SELECTOR, f"[{attribute}]")]


def row_text(driver: Any, attribute: str, value: str) -> str | None:
    found = driver.find_elements(by().CSS_SELECTOR, f'[{attribute}="{value}"]')
    return found[0].text if found else None


def new_token(driver: Any) -> str | None:
    found = driver.find_elements(by().ID, "new-token")
    return found[0].get_attribute("textContent") if found else None


def session_client(driver: Any, base: str) -> Client:
    """A plain HTTP client carrying the browser's cookies (HttpOnly ones included, as WebDriver sees them)."""
    c = Client(base)
    for ck in driver.get_cookies():
        c.cookies[(ck["name"], ck.get("path") or "/")] = ck["value"]
    return c


def page_facts(driver: Any) -> dict[str, Any]:
    """Accessibility and self-containment of the page on screen."""
    script = """
      const own = location.origin;
      const res = [...document.querySelectorAll('script[src],link[href],img[src],iframe[src]')]
          .map(e => e.src || e.href).filter(u => u && !u.startsWith(own) && !u.startsWith('data:'));
      const unlabelled = [...document.querySelectorAll('input,select,textarea')]
          .filter(e => e.type !== 'hidden' && e.type !== 'submit' && e.type !== 'button')
          .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
          .map(e => e.name || e.id || e.outerHTML.slice(0, 80));
      return {third_party: res, unlabelled: unlabelled, h1: document.querySelectorAll('h1').length,
              scripts: document.querySelectorAll('script').length, lang: document.documentElement.lang,
              stylesheets: document.querySelectorAll('link[rel=stylesheet],style').length};
    """
    return driver.execute_script(script)


# ---------------------------------------------------------------------------------------------------------
# Scenarios

def scenario_tokens(args: argparse.Namespace) -> None:
    B = by()
    anonymous = http("GET", args.base + "/account")
    OUT["anonymous_status"], OUT["anonymous_location"] = anonymous.status, anonymous.header("Location")

    d = browser()
    d.get(args.base + "/account")
    OUT["anonymous_landed_path"], OUT["anonymous_landed_next"] = path_of(d), query_of(d).get("next")
    sign_in_on_page(d, args.email, args.password)
    OUT["signed_in_path"] = path_of(d)
    OUT["shows_email"] = args.email in d.page_source
    OUT["page"] = page_facts(d)

    plain = session_client(d, args.base)
    account = plain.get("/account")
    OUT["account_headers"] = {k: account.header(k) for k in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "Cache-Control")}

    create_form = action_button(d, "/account/tokens", "create").find_element(B.XPATH, "./ancestor::form")
    boxes = create_form.find_elements(B.CSS_SELECTOR, 'input[type="checkbox"][name="scope"]')
    OUT["offered_scopes"] = [b.get_attribute("value") for b in boxes]
    for b in boxes:
        if (b.get_attribute("value") == "read") != b.is_selected():
            b.click()
    before = rows(d, "data-token-id")
    set_field(create_form, "name", "read-only from the page")
    OUT["create_form_has"] = {f: bool(create_form.find_elements(B.CSS_SELECTOR, f'[name="{f}"]')) for f in ("name", "app", "env", "expires")}
    set_field(create_form, "app", "notes")
    set_field(create_form, "env", "dev")
    click_and_wait(d, action_button(d, "/account/tokens", "create"))
    t1 = new_token(d)
    OUT["created_format_ok"] = bool(t1 and PAT.match(t1))
    if not t1:
        raise RuntimeError("no #new-token after create")
    d.get(args.base + "/account")
    created = [t for t in rows(d, "data-token-id") if t not in before]
    OUT["created_rows"] = len(created)
    t1_id = created[0] if created else ""
    OUT["created_row_text"] = row_text(d, "data-token-id", t1_id)
    OUT["secret_not_on_account_page"] = t1 not in d.page_source

    OUT["read_token_tools"] = mcp_client(args.mcp_url, t1, "list-tools")
    OUT["read_token_read"] = mcp_client(args.mcp_url, t1, "call", "search_notes", "--args", '{"query": "milk"}')
    OUT["read_token_write"] = mcp_client(args.mcp_url, t1, "call", "add_note", "--args", '{"text": "must not be written"}')

    # Rotate without grace: the new secret works, the old one is dead at once.
    known = set(before) | {t1_id}
    submit_action(d, f"/account/tokens/{t1_id}/rotate", "rotate")
    t2 = new_token(d)
    OUT["rotated_format_ok"] = bool(t2 and PAT.match(t2)) and t2 != t1
    OUT["rotate_new_status"] = gateway_status(args.mcp_url, t2 or "")
    OUT["rotate_old_status"] = gateway_status(args.mcp_url, t1)
    d.get(args.base + "/account")
    fresh = [t for t in rows(d, "data-token-id") if t not in known]
    t2_id = fresh[0] if fresh else t1_id
    OUT["rotate_listing"] = {"old_listed": t1_id in rows(d, "data-token-id"), "new_rows": len(fresh)}
    known |= set(fresh)

    # Rotate with a grace: both work for now.
    submit_action(d, f"/account/tokens/{t2_id}/rotate", "rotate", {"grace": "1h"})
    t3 = new_token(d)
    OUT["grace_rotated_format_ok"] = bool(t3 and PAT.match(t3)) and t3 not in (t1, t2)
    OUT["grace_new_status"] = gateway_status(args.mcp_url, t3 or "")
    OUT["grace_old_status"] = gateway_status(args.mcp_url, t2 or "")
    d.get(args.base + "/account")
    fresh = [t for t in rows(d, "data-token-id") if t not in known]
    t3_id = fresh[0] if fresh else t2_id
    known |= set(fresh)
    OUT["token_ids_distinct"] = len({t1_id, t2_id, t3_id}) == 3

    # A token created by a plain form POST (no JavaScript anywhere): 200, no-store, the secret in #new-token.
    plain = session_client(d, args.base)
    fields = [("csrf", plain.csrf()), ("name", "made without a browser"), ("scope", "read"), ("app", "notes"),
              ("env", "dev"), ("action", "create")]
    made = plain.post("/account/tokens", fields)
    OUT["form_post_create"] = {"status": made.status, "cache_control": made.header("Cache-Control"),
                               "has_new_token": 'id="new-token"' in made.text}

    # Revoke the newest rotation: the next gateway call is 401.
    d.get(args.base + "/account")
    submit_action(d, f"/account/tokens/{t3_id}/revoke", "revoke")
    OUT["revoke_landed_path"] = path_of(d)
    OUT["revoked_status"] = gateway_status(args.mcp_url, t3 or "")
    OUT["revoked_still_listed_live"] = bool(d.find_elements(B.CSS_SELECTOR, f'[data-token-id="{t3_id}"] [name="action"][value="revoke"]'))

    # Log out (a CSRF-protected POST): /account asks for a sign-in again.
    logout = [f for f in d.find_elements(B.TAG_NAME, "form") if urllib.parse.urlparse(f.get_attribute("action") or "").path == "/logout"]
    OUT["has_logout_form"] = bool(logout)
    if logout:
        click_and_wait(d, logout[0].find_element(B.CSS_SELECTOR, 'button, input[type="submit"]'))
        d.get(args.base + "/account")
        OUT["after_logout_path"] = path_of(d)
        OUT["after_logout_plain_status"] = plain.get("/account").status


def scenario_applications(args: argparse.Namespace) -> None:
    OUT["connect"] = connect_oauth_client(args, args.state, args.client_name)
    stored = stored_tokens(args.state)
    client_id = stored["client_id"]
    OUT["client_id"] = client_id
    OUT["access_before"] = gateway_status(args.mcp_url, stored["access_token"])

    d = browser()
    sign_in(d, args.base, args.email, args.password)
    OUT["listed_clients"] = rows(d, "data-client-id")
    OUT["row_text"] = row_text(d, "data-client-id", client_id)
    submit_action(d, f"/account/applications/{client_id}/revoke", "revoke")
    OUT["revoke_landed_path"] = path_of(d)
    d.get(args.base + "/account")
    OUT["listed_after"] = rows(d, "data-client-id")
    OUT["access_after"] = gateway_status(args.mcp_url, stored["access_token"])
    OUT["refresh_after"] = refresh(args.base, stored["refresh_token"] or "", client_id)


def scenario_revoke_all(args: argparse.Namespace) -> None:
    OUT["connect"] = connect_oauth_client(args, args.state, args.client_name)
    stored = stored_tokens(args.state)
    other = Client(args.base)
    OUT["other_session_sign_in"] = other.sign_in(args.email, args.password).status
    OUT["other_session_before"] = other.get("/account").status

    d = browser()
    sign_in(d, args.base, args.email, args.password)
    create_form = action_button(d, "/account/tokens", "create").find_element(by().XPATH, "./ancestor::form")
    set_field(create_form, "name", "to be revoked with everything")
    set_field(create_form, "app", "notes")
    set_field(create_form, "env", "dev")
    click_and_wait(d, action_button(d, "/account/tokens", "create"))
    pat = new_token(d) or ""
    OUT["pat_before"] = gateway_status(args.mcp_url, pat)
    OUT["access_before"] = gateway_status(args.mcp_url, stored["access_token"])
    d.get(args.base + "/account")
    submit_action(d, "/account/revoke-all", "revoke-all")
    OUT["landed_path"] = path_of(d)
    OUT["pat_after"] = gateway_status(args.mcp_url, pat)
    OUT["cli_token_after"] = gateway_status(args.mcp_url, args.cli_token) if args.cli_token else None
    OUT["access_after"] = gateway_status(args.mcp_url, stored["access_token"])
    OUT["refresh_after"] = refresh(args.base, stored["refresh_token"] or "", stored["client_id"])
    d.get(args.base + "/account")
    OUT["browser_after_path"] = path_of(d)
    after = other.get("/account")
    OUT["other_session_after"] = {"status": after.status, "location": after.header("Location")}


def scenario_csrf(args: argparse.Namespace) -> None:
    d = browser()
    sign_in(d, args.base, args.email, args.password)
    create_form = action_button(d, "/account/tokens", "create").find_element(by().XPATH, "./ancestor::form")
    set_field(create_form, "name", "target of forged posts")
    set_field(create_form, "app", "notes")
    set_field(create_form, "env", "dev")
    before = rows(d, "data-token-id")
    click_and_wait(d, action_button(d, "/account/tokens", "create"))
    target = new_token(d) or ""
    d.get(args.base + "/account")
    ids = rows(d, "data-token-id")
    target_id = next((t for t in ids if t not in before), "")
    OUT["target_found"] = bool(target_id)

    alice = session_client(d, args.base)
    good = alice.csrf()
    bob = Client(args.base)
    bob.sign_in(args.other_email, args.other_password)
    bobs_csrf = bob.csrf()
    OUT["csrf_present"] = bool(good)
    OUT["bobs_csrf_differs"] = bool(bobs_csrf) and bobs_csrf != good

    def forged(path: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
        r = alice.post(path, fields)
        return {"status": r.status, "html": "<html" in r.text.lower() or "<!doctype" in r.text.lower(),
                "new_token": 'id="new-token"' in r.text}

    revoke = f"/account/tokens/{target_id}/revoke"
    OUT["forged"] = {
        "revoke_without_csrf": forged(revoke, [("action", "revoke")]),
        "revoke_with_wrong_csrf": forged(revoke, [("csrf", "x" * max(len(good), 32)), ("action", "revoke")]),
        "revoke_with_bobs_csrf": forged(revoke, [("csrf", bobs_csrf), ("action", "revoke")]),
        "rotate_without_csrf": forged(f"/account/tokens/{target_id}/rotate", [("action", "rotate")]),
        "create_with_wrong_csrf": forged("/account/tokens", [("csrf", "wrong"), ("name", "forged"), ("scope", "read"),
                                                             ("app", "notes"), ("env", "dev"), ("action", "create")]),
        "revoke_all_without_csrf": forged("/account/revoke-all", [("action", "revoke-all")]),
        "logout_without_csrf": forged("/logout", []),
    }
    OUT["target_after_forgeries"] = gateway_status(args.mcp_url, target)
    d.get(args.base + "/account")
    OUT["rows_after_forgeries"] = sorted(rows(d, "data-token-id")) == sorted(ids)
    OUT["session_after_forgeries"] = path_of(d)

    # With a valid CSRF token, still only the user's own, existing tokens.
    other = alice.post(f"/account/tokens/{args.other_token_id}/revoke", [("csrf", good), ("action", "revoke")])
    unknown = alice.post("/account/tokens/tok_doesnotexist000000000000/revoke", [("csrf", good), ("action", "revoke")])
    OUT["revoke_other_users_token"] = {"status": other.status, "html": "<html" in other.text.lower() or "<!doctype" in other.text.lower()}
    OUT["revoke_unknown_token"] = {"status": unknown.status}
    OUT["other_users_token_after"] = gateway_status(args.mcp_url, args.other_token)
    other_app = alice.post("/account/applications/nonexistent-client/revoke", [("csrf", good), ("action", "revoke")])
    OUT["revoke_unknown_application"] = {"status": other_app.status}

    # A wrong password: back to the form, no session.
    wrong = Client(args.base)
    r = wrong.sign_in(args.email, "not the password")
    OUT["wrong_password"] = {"status": r.status, "location": r.header("Location"), "account": wrong.get("/account").status}

    # next= only ever sends the browser to a local path.
    for name, target_next in (("absolute", "https://evil.example/"), ("scheme_relative", "//evil.example/x"),
                              ("backslash", "/\\evil.example")):
        c = Client(args.base)
        r = c.sign_in(args.email, args.password, next_path=target_next)
        location = r.header("Location") or ""
        host = urllib.parse.urlparse(urllib.parse.urljoin(args.base + "/login", location)).netloc
        OUT.setdefault("next", {})[name] = {"status": r.status, "stays_local": host == urllib.parse.urlparse(args.base).netloc}
    cookie_check = Client(args.base).sign_in(args.email, args.password)
    OUT["session_cookie"] = [c for c in cookie_check.headers("Set-Cookie") if "max-age=0" not in c.lower()]


def admin_pages(d: Any, base: str) -> dict[str, Any]:
    """Everything under /admin reachable by links from /admin: token ids, client ids, text."""
    seen, todo, tokens, clients, text = set(), ["/admin"], set(), set(), ""
    while todo and len(seen) < 12:
        p = todo.pop(0)
        if p in seen:
            continue
        seen.add(p)
        d.get(base + p)
        tokens.update(rows(d, "data-token-id"))
        clients.update(rows(d, "data-client-id"))
        text += d.find_element(by().TAG_NAME, "body").text + "\n"
        for a in d.find_elements(by().CSS_SELECTOR, "a[href]"):
            u = urllib.parse.urlparse(a.get_attribute("href"))
            if u.netloc == urllib.parse.urlparse(base).netloc and u.path.startswith("/admin") and not u.query and u.path not in seen:
                todo.append(u.path)
    return {"pages": sorted(seen), "token_ids": sorted(tokens), "client_ids": sorted(clients), "text": text}


def scenario_admin(args: argparse.Namespace) -> None:
    B = by()
    OUT["anonymous_admin"] = http("GET", args.base + "/admin").status
    alice = Client(args.base)
    alice.sign_in(args.email, args.password)
    OUT["user_admin_status"] = alice.get("/admin").status
    OUT["user_admin_users_status"] = alice.get("/admin/users").status
    OUT["user_account_before"] = alice.get("/account").status
    OUT["user_token_before"] = gateway_status(args.mcp_url, args.user_token)

    d = browser()
    sign_in(d, args.base, args.operator_email, args.operator_password)
    seen = admin_pages(d, args.base)
    OUT["admin_pages"] = seen["pages"]
    OUT["admin_token_ids"] = seen["token_ids"]
    OUT["admin_client_ids"] = seen["client_ids"]
    OUT["admin_shows_user"] = args.email in seen["text"]
    OUT["admin_has_audit_search"] = bool(d.find_elements(B.CSS_SELECTOR, 'form[method="get"], form:not([method])'))

    # Revoke one of the user's tokens from /admin/tokens.
    if args.other_token_id:
        OUT["second_token_before"] = gateway_status(args.mcp_url, args.other_token)
        d.get(args.base + "/admin/tokens")
        click_and_wait(d, action_button(d, f"/admin/tokens/{args.other_token_id}/revoke", "revoke"))
        OUT["second_token_after"] = gateway_status(args.mcp_url, args.other_token)
        OUT["first_token_untouched"] = gateway_status(args.mcp_url, args.user_token)

    # The user's browser sessions are listed; the operator ends them there.
    d.get(args.base + "/admin/sessions")
    theirs = [e.get_attribute("data-session-id") for e in d.find_elements(B.CSS_SELECTOR, "[data-session-id]") if args.email in e.text]
    OUT["admin_user_sessions"] = len(theirs)
    for sid in theirs:
        d.get(args.base + "/admin/sessions")
        click_and_wait(d, action_button(d, f"/admin/sessions/{urllib.parse.quote(sid, safe='')}/revoke", "revoke"))
    OUT["user_account_after_session_end"] = alice.get("/account").status
    alice = Client(args.base)
    alice.sign_in(args.email, args.password)

    # Disable the user from the pages: the button in the user's row or form.
    disabled = False
    for p in seen["pages"]:
        d.get(args.base + p)
        for button in d.find_elements(B.CSS_SELECTOR, '[name="action"][value="disable"]'):
            form = button.find_element(B.XPATH, "./ancestor::form")
            scope = form.find_element(B.XPATH, "./ancestor::*[@data-email or self::tr or self::li][1]") if \
                form.find_elements(B.XPATH, "./ancestor::*[@data-email or self::tr or self::li]") else form
            if args.email in (scope.get_attribute("data-email") or "") or args.email in scope.text \
                    or args.email in (form.get_attribute("action") or "") or urllib.parse.quote(args.email) in (form.get_attribute("action") or ""):
                click_and_wait(d, button)
                disabled = True
                break
        if disabled:
            break
    OUT["disable_clicked"] = disabled
    OUT["user_account_after"] = {"status": (r := alice.get("/account")).status, "location": r.header("Location")}
    OUT["user_token_after"] = gateway_status(args.mcp_url, args.user_token)
    relogin = Client(args.base).sign_in(args.email, args.password)
    OUT["user_sign_in_after"] = {"status": relogin.status, "location": relogin.header("Location")}


def scenario_session_save(args: argparse.Namespace) -> None:
    d = browser()
    sign_in(d, args.base, args.email, args.password)
    OUT["signed_in_path"] = path_of(d)
    with open(args.cookies, "w") as f:
        json.dump(d.get_cookies(), f)
    OUT["cookies"] = [{k: c.get(k) for k in ("name", "path", "httpOnly", "sameSite", "secure")} for c in d.get_cookies()]


def scenario_session_check(args: argparse.Namespace) -> None:
    d = browser()
    d.get(args.base + "/healthz")
    with open(args.cookies) as f:
        for c in json.load(f):
            d.add_cookie({k: v for k, v in c.items() if k in ("name", "value", "path", "httpOnly", "secure", "sameSite", "expiry")})
    d.get(args.base + "/account")
    OUT["path"] = path_of(d)
    OUT["shows_email"] = args.email in d.page_source


def scenario_hostile(args: argparse.Namespace) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    OUT["connect"] = connect_oauth_client(args, args.state, HOSTILE_NAME)
    client_id = stored_tokens(args.state)["client_id"]
    d = browser()
    sign_in(d, args.base, args.email, args.password)
    d.get(args.base + "/account")
    time.sleep(0.5)

    def look(where: str) -> None:
        try:
            d.switch_to.alert.dismiss()
            alert = True
        except NoAlertPresentException:
            alert = False
        OUT[where] = {"alert": alert,
                      "injected_images": d.execute_script("return document.querySelectorAll('img[src=\"x\"], img[onerror]').length"),
                      "row_text": row_text(d, "data-client-id", client_id),
                      "escaped_in_source": html.escape(HOSTILE_NAME, quote=False) in d.page_source
                      or "&lt;img src=x onerror=alert(1)&gt;" in d.page_source}

    look("account")
    if args.operator_email:
        d2 = browser()
        sign_in(d2, args.base, args.operator_email, args.operator_password)
        d = d2
        for p in admin_pages(d2, args.base)["pages"]:
            d2.get(args.base + p)
            if d2.find_elements(by().CSS_SELECTOR, f'[data-client-id="{client_id}"]'):
                time.sleep(0.3)
                look("admin")
                break


def scenario_screenshot(args: argparse.Namespace) -> None:
    shots: list[tuple[int, str]] = []
    for width, height in ((1280, 900), (390, 844)):
        d = browser(width, height)
        sign_in(d, args.base, args.email, args.password)
        inner = d.execute_script("return window.innerWidth")
        full = d.execute_script("return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
        OUT[f"overflow_px_{width}"] = d.execute_script("return document.documentElement.scrollWidth") - inner
        if width < 500:
            OUT["phone_font_px"] = d.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
            OUT["phone_viewport_meta"] = bool(d.find_elements(by().CSS_SELECTOR, 'meta[name="viewport"]'))
        d.set_window_size(width, min(max(full, height), 2400) + (d.execute_script("return window.outerHeight - window.innerHeight") or 0))
        shots.append((width, base64.b64encode(d.get_screenshot_as_png()).decode()))
        d.quit()
        DRIVERS.remove(d)
    # Side by side on one page, photographed once: desktop left, phone right.
    page = ("<!DOCTYPE html><html><body style='margin:0;background:#d9dde3;display:flex;gap:24px;padding:24px;align-items:flex-start'>"
            + "".join(f"<img style='box-shadow:0 2px 12px rgba(0,0,0,.25);width:{w}px' src='data:image/png;base64,{b}'>" for w, b in shots)
            + "</body></html>")
    tmp = os.path.join(tempfile.mkdtemp(prefix="mcpctl-shot-"), "compose.html")
    with open(tmp, "w") as f:
        f.write(page)
    d = browser(1280 + 390 + 72, 900)
    d.get("file://" + tmp)
    height = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(1280 + 390 + 72, height + (d.execute_script("return window.outerHeight - window.innerHeight") or 0))
    png = d.get_screenshot_as_png()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(png)
    OUT["written"] = args.out
    OUT["bytes"] = len(png)


def scenario_limits(args: argparse.Namespace) -> None:
    """What the server allows, whatever the form is made to send (serve --max-token-ttl, grants)."""
    B = by()
    d = browser()
    sign_in(d, args.base, args.email, args.password)
    offered = d.find_elements(B.CSS_SELECTOR, 'form[action$="/account/tokens"] [name="action"][value="create"]')
    OUT["create_offered"] = bool(offered)
    OUT["expires_options"] = [o.get_attribute("value") for o in d.find_elements(B.CSS_SELECTOR, 'select[name="expires"] option')]
    plain = session_client(d, args.base)
    good = plain.csrf()

    def create(name: str, extra: list[tuple[str, str]]) -> dict[str, Any]:
        r = plain.post("/account/tokens", [("csrf", good), ("name", name), ("action", "create")] + extra)
        return {"status": r.status, "new_token": 'id="new-token"' in r.text}

    OUT["forged_create"] = {
        "expires_past_the_cap": create("too long", [("scope", "read"), ("app", "notes"), ("env", "dev"), ("expires", "365d")]),
        "expires_never": create("forever", [("scope", "read"), ("app", "notes"), ("env", "dev"), ("expires", "never")]),
        "scope_beyond_the_grant": create("more than granted", [("scope", "read"), ("scope", "delete"), ("app", "notes"), ("env", "dev"), ("expires", "1d")]),
        "app_without_env": create("half a target", [("scope", "read"), ("app", "notes"), ("expires", "1d")]),
    }


def scenario_cookie(args: argparse.Namespace) -> None:
    """The Set-Cookie of a password sign-in, as a plain HTTP client sees it."""
    r = Client(args.base).sign_in(args.email, args.password)
    OUT["status"], OUT["location"] = r.status, r.header("Location")
    OUT["set_cookie"] = [c for c in r.headers("Set-Cookie") if "max-age=0" not in c.lower()]


SCENARIOS = {"tokens": scenario_tokens, "applications": scenario_applications, "revoke-all": scenario_revoke_all,
             "csrf": scenario_csrf, "admin": scenario_admin, "session-save": scenario_session_save,
             "session-check": scenario_session_check, "hostile": scenario_hostile, "screenshot": scenario_screenshot,
             "limits": scenario_limits, "cookie": scenario_cookie}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, help="the server, e.g. http://127.0.0.1:8000")
    p.add_argument("--mcp-url", default="", help="a gateway URL the user's tokens are for")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--state", default="", help="oauth_client.py state file (applications, revoke-all, hostile)")
    p.add_argument("--client-name", default="Account page test client")
    p.add_argument("--cli-token", default="", help="revoke-all: a token made with the CLI, to check it dies too")
    p.add_argument("--other-email", default="")
    p.add_argument("--other-password", default="")
    p.add_argument("--other-token", default="", help="csrf: a live token of the other user")
    p.add_argument("--other-token-id", default="")
    p.add_argument("--operator-email", default="")
    p.add_argument("--operator-password", default="")
    p.add_argument("--user-token", default="", help="admin: a live token of --email")
    p.add_argument("--cookies", default="", help="session-save / session-check: the cookie file")
    p.add_argument("--out", default="", help="screenshot: the PNG to write")
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    args = p.parse_args()
    SCENARIOS[args.scenario](args)
    emit(OUT, 0)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - everything is reported as JSON
        where: dict[str, Any] = {}
        for d in DRIVERS:
            try:
                where = {"url": d.current_url, "page": d.find_element(by().TAG_NAME, "body").text[:800]}
            except Exception:  # noqa: BLE001
                pass
        emit({**OUT, **where, "error": f"{type(e).__name__}: {e}"}, 4)
