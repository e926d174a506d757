#!/usr/bin/env python3
"""An outside OAuth issuer for mcpctl's interoperability tests, built on PyJWT + cryptography.

Serves OpenID discovery (or, with --metadata rfc8414, only RFC 8414 metadata), a JWKS, an RFC 7662
introspection endpoint (HTTP Basic client authentication), and test controls that mint tokens with a
real 2048-bit RSA key:

    python outside_issuer.py --port 0 --client-id ID --client-secret SECRET [--metadata openid|rfc8414]

Prints ``READY <port>`` once listening. Controls (GET, query parameters, JSON answers):

    /mint?email=&email_verified=true|false&upn=&aud=&scope=&scp=&exp_in=&iss=&kid=&typ=&prefix=&mode=rs256|none|hs256-public-key|forged|unknown-key|opaque
                       (prefix: the start of an opaque token)
    /rotate            adds a second signing key and answers {"kid": ...}
    /revoke?token=     makes an opaque token inactive
    /stats             {"jwks_fetches": n, "introspections": n}
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class Issuer:
    def __init__(self, base: str, client_id: str, client_secret: str, metadata: str) -> None:
        self.base = base
        self.client_id = client_id
        self.client_secret = client_secret
        self.metadata = metadata
        self.lock = threading.Lock()
        self.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.opaque: dict[str, dict] = {}
        self.jwks_fetches = 0
        self.introspections = 0

    def jwks(self) -> dict:
        with self.lock:
            self.jwks_fetches += 1
            keys = []
            for kid, key in self.keys.items():
                jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
                jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
                keys.append(jwk)
        return {"keys": keys}

    def discovery(self) -> dict:
        return {"issuer": self.base, "jwks_uri": self.base + "/jwks", "introspection_endpoint": self.base + "/introspect",
                "token_endpoint": self.base + "/token", "authorization_endpoint": self.base + "/authorize"}

    def mint(self, q: dict[str, str]) -> str:
        now = int(time.time())
        claims = {"iss": q.get("iss", self.base), "sub": q.get("email", "x"), "iat": now,
                  "exp": now + int(q.get("exp_in", "300")), "jti": secrets.token_hex(8)}
        if q.get("email"):
            claims["email"] = q["email"]
        if "email_verified" in q:
            claims["email_verified"] = q["email_verified"] == "true"
        if q.get("upn"):
            claims["upn"] = q["upn"]
        if q.get("aud"):
            claims["aud"] = q["aud"]
        if "scope" in q:
            claims["scope"] = q["scope"]
        if "scp" in q:
            claims["scp"] = q["scp"].split()
        mode = q.get("mode", "rs256")
        headers = {"typ": q.get("typ", "at+jwt"), "kid": q.get("kid", "k1")}
        if mode == "opaque":
            token = q.get("prefix", "") + secrets.token_urlsafe(32)
            with self.lock:
                self.opaque[token] = {"active": True, "client_id": "someone", "username": q.get("email"), **claims}
            return token
        if mode == "none":
            return jwt.encode(claims, None, algorithm="none", headers=headers)
        if mode == "hs256-public-key":
            pem = self.keys["k1"].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            h = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", **headers}).encode()).rstrip(b"=").decode()
            p = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            import hashlib, hmac
            sig = hmac.new(pem, f"{h}.{p}".encode(), hashlib.sha256).digest()
            return f"{h}.{p}." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
        if mode == "forged":
            # Signed by a key the issuer never published, under the issuer's own kid.
            return jwt.encode(claims, self.stranger, algorithm="RS256", headers=headers)
        if mode == "unknown-key":
            return jwt.encode(claims, self.stranger, algorithm="RS256", headers={**headers, "kid": "nobody"})
        with self.lock:
            key = self.keys[headers["kid"]]
        return jwt.encode(claims, key, algorithm="RS256", headers=headers)

    def rotate(self) -> str:
        with self.lock:
            kid = f"k{len(self.keys) + 1}"
            self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    def introspect(self, auth: str | None, form: dict[str, str]) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != expected:
            return 401, {"error": "invalid_client"}
        with self.lock:
            self.introspections += 1
            answer = self.opaque.get(form.get("token", ""))
        if not answer or not answer.get("active") or answer["exp"] <= time.time():
            return 200, {"active": False}
        return 200, answer


def handler_for(issuer: Issuer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            if url.path == "/.well-known/openid-configuration" and issuer.metadata == "openid":
                return self.answer(200, issuer.discovery())
            if url.path == "/.well-known/oauth-authorization-server" and issuer.metadata == "rfc8414":
                return self.answer(200, issuer.discovery())
            if url.path == "/jwks":
                return self.answer(200, issuer.jwks())
            if url.path == "/mint":
                return self.answer(200, {"token": issuer.mint(q)})
            if url.path == "/rotate":
                return self.answer(200, {"kid": issuer.rotate()})
            if url.path == "/revoke":
                with issuer.lock:
                    issuer.opaque.get(q.get("token", ""), {})["active"] = False
                return self.answer(200, {"revoked": True})
            if url.path == "/stats":
                return self.answer(200, {"jwks_fetches": issuer.jwks_fetches, "introspections": issuer.introspections})
            self.answer(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            if urlparse(self.path).path != "/introspect":
                return self.answer(404, {"error": "not_found"})
            form = {k: v[0] for k, v in parse_qs(body).items()}
            status, answer = issuer.introspect(self.headers.get("Authorization"), form)
            self.answer(status, answer)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", default="mcpctl")
    parser.add_argument("--client-secret", default="s3cret")
    parser.add_argument("--metadata", choices=["openid", "rfc8414"], default="openid")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), None)
    port = server.server_address[1]
    issuer = Issuer(f"http://127.0.0.1:{port}", args.client_id, args.client_secret, args.metadata)
    server.RequestHandlerClass = handler_for(issuer)
    print(f"READY {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
