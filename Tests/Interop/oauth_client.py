#!/usr/bin/env python3
"""MCP client with OAuth for mcpctl's interoperability tests, built on the official mcp SDK.

Knows only the MCP URL: the SDK's own ``OAuthClientProvider`` discovers the authorization
server (RFC 9728, RFC 8414), registers (RFC 7591), and sends the user to the authorization
URL. The redirect handler here plays the user with a plain HTTP client (httpx / httpx2):
it fills the real login form (``email``, ``password``) and the real consent form (one
``scope`` checkbox per scope, ``decision=approve``), then hands the code from the redirect
back to the SDK. Runs with ``.venv-mcp1`` (mcp 1.x) or ``.venv-mcp2`` (mcp 2.x) python.

    python oauth_client.py --url URL --state FILE [--email E --password P] [--untick SCOPE]...
                           [--auth-method none|client_secret_basic|client_secret_post|default]
                           [--no-login] [--timeout 60] ACTION

ACTION:
    list-tools                  {"tools": [names...]}
    call TOOL [--args JSON]     {"is_error": bool, "content": [texts...]}

``--state FILE`` keeps tokens and the client registration between runs (JSON), so a later
run can show a refresh (after the access token expired) or a failure (after
``mcpctl client revoke``). ``--no-login`` makes any need to authorize an error.

stdout is exactly one JSON object (keys sorted); besides the action's result it reports
``authorizations`` (browser round trips), ``registrations``, ``code_exchanges``,
``refreshes`` (refresh_token grants sent) and ``refresh_failures``, ``client_id``,
``scope`` and ``sdk_version``. Secrets are never printed.

Exit codes:
    0  success
    3  an MCP request was answered with HTTP >= 400 after the OAuth flow: {"error": "http", "status": N, ...}
    4  anything else: {"error": "other", "message": ...}
    5  authorization was needed but refused: {"error": "authorization", "reason": ..., "status": N, "title": ...}
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import threading
from importlib.metadata import version as _dist_version
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

EXIT_OK, EXIT_HTTP, EXIT_OTHER, EXIT_AUTH = 0, 3, 4, 5
_printed = threading.Lock()


def emit(obj: dict[str, Any], code: int) -> None:
    if not _printed.acquire(blocking=False):
        return
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="MCP client with OAuth (official mcp SDK OAuthClientProvider).")
    p.add_argument("--url", required=True)
    p.add_argument("--state", required=True, help="JSON file holding tokens and client info between runs")
    p.add_argument("--email", default="")
    p.add_argument("--password", default="")
    p.add_argument("--untick", action="append", default=[], help="scope to untick on the consent page")
    p.add_argument("--auth-method", default="none", help="token_endpoint_auth_method to register with ('default': omit it)")
    p.add_argument("--client-name", default="mcpctl interop client")
    p.add_argument("--redirect-uri", default="http://127.0.0.1:53682/callback")
    p.add_argument("--no-login", action="store_true", help="fail instead of authorizing")
    p.add_argument("--repeat-after", type=float, default=None, metavar="SECONDS",
                   help="after the action, wait this long and run it again in a new session with the same "
                        "provider (so an expired access token is refreshed, as the SDK only refreshes in-process)")
    p.add_argument("--timeout", type=float, default=60.0)
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("list-tools")
    c = sub.add_parser("call")
    c.add_argument("tool")
    c.add_argument("--args", default="{}")
    args = p.parse_args()
    args.tool_args = json.loads(args.args) if args.action == "call" else {}
    return args


SDK_VERSION = _dist_version("mcp")
SDK_MAJOR = int(SDK_VERSION.split(".")[0])

import anyio  # noqa: E402
import mcp.client.streamable_http as _sh  # noqa: E402
from mcp.client.auth import OAuthClientProvider  # noqa: E402
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken  # noqa: E402

httpx: Any = getattr(_sh, "httpx2", None) or getattr(_sh, "httpx")


class AuthorizationRefused(Exception):
    def __init__(self, reason: str, status: int | None = None, title: str | None = None):
        super().__init__(reason)
        self.reason, self.status, self.title = reason, status, title


class FileStorage:
    """TokenStorage (identical protocol in both SDKs) backed by one JSON file."""

    def __init__(self, path: str):
        self.path = path
        self.data: dict[str, Any] = {}
        if os.path.exists(path):
            with open(path) as f:
                self.data = json.load(f)

    def _save(self) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)

    async def get_tokens(self) -> OAuthToken | None:
        t = self.data.get("tokens")
        return OAuthToken.model_validate(t) if t else None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.data["tokens"] = tokens.model_dump(mode="json", exclude_none=True)
        self._save()

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        c = self.data.get("client")
        return OAuthClientInformationFull.model_validate(c) if c else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.data["client"] = client_info.model_dump(mode="json", exclude_none=True)
        self._save()


def hidden(name: str, page: str) -> str:
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), page)
    if not m:
        raise AuthorizationRefused(f"no {name} field on the page")
    return html.unescape(m.group(1))


def title(page: str) -> str | None:
    m = re.search(r"<h1>(.*?)</h1>", page, re.S)
    return html.unescape(m.group(1)).strip() if m else None


class User:
    """Plays the person in front of the browser, over plain HTTP with a cookie jar."""

    def __init__(self, args: argparse.Namespace, stats: dict[str, Any]):
        self.args, self.stats = args, stats
        self.callback: dict[str, str] | None = None

    async def redirect_handler(self, authorization_url: str) -> None:
        self.stats["authorizations"] += 1
        q = parse_qs(urlparse(authorization_url).query)
        self.stats["requested_scope"] = q.get("scope", [None])[0]
        self.stats["resource"] = q.get("resource", [None])[0]
        if self.args.no_login:
            raise AuthorizationRefused("authorization needed but --no-login given")
        async with httpx.AsyncClient(follow_redirects=False, timeout=self.args.timeout) as web:
            r = await web.get(authorization_url)
            if r.status_code != 200:
                raise AuthorizationRefused("authorization page refused", r.status_code, title(r.text))
            page, url = r.text, str(r.url)
            if 'name="password"' in page:
                form = [("tx", hidden("tx", page)), ("csrf", hidden("csrf", page)),
                        ("email", self.args.email), ("password", self.args.password)]
                r = await web.post(urljoin(url, "/oauth/authorize"), content=urlencode(form),
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
                if r.status_code != 303:
                    raise AuthorizationRefused("login form answered %d" % r.status_code, r.status_code)
                r = await web.get(urljoin(url, r.headers["location"]))
                page = r.text
                if 'name="password"' in page:
                    raise AuthorizationRefused("login failed", r.status_code, title(page))
            if 'name="decision"' not in page:
                raise AuthorizationRefused("no consent page", r.status_code, title(page))
            offered = re.findall(r'<input type="checkbox" name="scope" value="([a-z]+)"', page)
            self.stats["offered_scopes"] = offered
            data = [("tx", hidden("tx", page)), ("csrf", hidden("csrf", page))]
            data += [("scope", s) for s in offered if s not in self.args.untick]
            data.append(("decision", "approve"))
            r = await web.post(urljoin(url, "/oauth/authorize"), content=urlencode(data),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            if r.status_code != 303 or "location" not in r.headers:
                raise AuthorizationRefused("consent form answered %d" % r.status_code, r.status_code, title(r.text))
            location = r.headers["location"]
            params = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
            if "code" not in params:
                raise AuthorizationRefused("no code in the redirect: %s" % params.get("error"))
            self.stats["iss"] = params.get("iss")
            self.callback = params

    async def callback_handler(self) -> Any:
        assert self.callback is not None
        code, state = self.callback["code"], self.callback.get("state")
        if SDK_MAJOR >= 2:
            from mcp.client.auth import AuthorizationCodeResult

            return AuthorizationCodeResult(code=code, state=state, iss=self.callback.get("iss"))
        return code, state


async def run(args: argparse.Namespace, stats: dict[str, Any], recorder: list[Any]) -> dict[str, Any]:
    storage = FileStorage(args.state)
    user = User(args, stats)
    metadata: dict[str, Any] = {"client_name": args.client_name, "redirect_uris": [args.redirect_uri],
                                "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}
    if args.auth_method != "default":
        metadata["token_endpoint_auth_method"] = args.auth_method
    provider = OAuthClientProvider(server_url=args.url, client_metadata=OAuthClientMetadata.model_validate(metadata),
                                   storage=storage, redirect_handler=user.redirect_handler,
                                   callback_handler=user.callback_handler)

    async def on_request(request: Any) -> None:
        body = request.content.decode("utf-8", "replace") if request.method == "POST" else ""
        if request.url.path.endswith("/register"):
            stats["registrations"] += 1
        if request.url.path.endswith("/token"):
            if "grant_type=refresh_token" in body:
                stats["refreshes"] += 1
            elif "grant_type=authorization_code" in body:
                stats["code_exchanges"] += 1
        recorder.append([request.method, str(request.url), None, request])

    async def on_response(response: Any) -> None:
        for rec in reversed(recorder):
            if rec[3] is response.request:
                rec[2] = response.status_code
                break
        if response.request.url.path.endswith("/token") and response.status_code != 200 \
                and b"grant_type=refresh_token" in (response.request.content or b""):
            stats["refresh_failures"] += 1

    async with httpx.AsyncClient(auth=provider, timeout=httpx.Timeout(args.timeout, read=args.timeout), follow_redirects=False,
                                 event_hooks={"request": [on_request], "response": [on_response]}) as http_client:
        result = await session(args, http_client)
        if args.repeat_after is not None:
            first = {**result, "authorizations": stats["authorizations"], "refreshes": stats["refreshes"]}
            await anyio.sleep(args.repeat_after)
            result = {**(await session(args, http_client)), "first": first}
    tokens = storage.data.get("tokens") or {}
    client = storage.data.get("client") or {}
    stats.update(client_id=client.get("client_id"), token_endpoint_auth_method=client.get("token_endpoint_auth_method"),
                 scope=tokens.get("scope"))
    return result


async def session(args: argparse.Namespace, http_client: Any) -> dict[str, Any]:
    """One MCP session over the shared, OAuth-authenticated HTTP client, running the action."""
    transport = _sh.streamable_http_client(args.url, http_client=http_client)
    if SDK_MAJOR >= 2:
        from mcp import Client

        async with Client(transport, mode="legacy") as client:
            return await act(args, client.list_tools, client.call_tool)
    from mcp import ClientSession

    async with transport as streams:
        async with ClientSession(streams[0], streams[1]) as s:
            await s.initialize()
            return await act(args, s.list_tools, s.call_tool)


async def act(args: argparse.Namespace, list_tools: Any, call_tool: Any) -> dict[str, Any]:
    def dump(m: Any) -> Any:
        return m.model_dump(by_alias=True, mode="json", exclude_none=True)

    if args.action == "list-tools":
        return {"tools": [t["name"] for t in dump(await list_tools()).get("tools", [])]}
    result = dump(await call_tool(args.tool, args.tool_args))
    texts = [c.get("text", "") if c.get("type") == "text" else json.dumps(c) for c in result.get("content", [])]
    return {"is_error": bool(result.get("isError", False)), "content": texts}


def leaves(exc: BaseException) -> list[BaseException]:
    out, stack, seen = [], [exc], set()
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
            continue
        out.append(e)
        stack.extend(x for x in (e.__cause__, e.__context__) if x is not None)
    return out


def main() -> None:
    args = parse_args()
    stats: dict[str, Any] = {"authorizations": 0, "registrations": 0, "code_exchanges": 0, "refreshes": 0,
                             "refresh_failures": 0, "sdk_version": SDK_VERSION}
    recorder: list[Any] = []

    async def guarded() -> dict[str, Any]:
        with anyio.fail_after(args.timeout):
            return await run(args, stats, recorder)

    try:
        result = anyio.run(guarded)
    except BaseException as exc:  # noqa: BLE001 - everything is reported as JSON
        found = leaves(exc)
        refused = next((e for e in found if isinstance(e, AuthorizationRefused)), None)
        if refused:
            emit({**stats, "error": "authorization", "reason": refused.reason, "status": refused.status,
                  "title": refused.title}, EXIT_AUTH)
        posts = [r for r in recorder if r[0] == "POST" and "/mcp/" in r[1]]
        if posts and posts[-1][2] is not None and posts[-1][2] >= 400:
            emit({**stats, "error": "http", "status": posts[-1][2], "url": posts[-1][1]}, EXIT_HTTP)
        emit({**stats, "error": "other", "message": "; ".join(f"{type(e).__name__}: {e}" for e in found)[:2000]}, EXIT_OTHER)
        return
    emit({**stats, **result}, EXIT_OK)


if __name__ == "__main__":
    main()
