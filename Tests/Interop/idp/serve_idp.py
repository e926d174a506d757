"""Starts a real OpenID Connect provider (django-oauth-toolkit, OIDC on, RS256) on loopback for mcpctl's
SSO tests: a fresh sqlite store in --dir, a new 2048-bit RSA signing key, the users of the claims file
(each with --password) and one confidential client for mcpctl. Prints `READY <issuer>` once it listens.
With --agent-client, also a confidential client allowed the password grant (an agent that gets opaque access
tokens for a user); with --resource-server-client, a confidential client that may call RFC 7662 introspection.

    serve_idp.py --port P --dir D --claims FILE --password PW --client-id ID --client-secret S --redirect-uri URI
                 [--agent-client ID:SECRET] [--resource-server-client ID:SECRET]
"""
import argparse
import os
import secrets
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    for name in ("port", "dir", "claims", "password", "client-id", "client-secret", "redirect-uri"):
        ap.add_argument("--" + name, required=True)
    for name in ("agent-client", "resource-server-client"):
        ap.add_argument("--" + name, default=None)
    a = ap.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = os.path.join(a.dir, "idp-rsa.pem")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    issuer = f"http://127.0.0.1:{a.port}/o"
    os.environ.update(IDP_DJANGO_SECRET=secrets.token_urlsafe(32), IDP_DB=os.path.join(a.dir, "idp.sqlite3"), IDP_ISSUER=issuer,
                      IDP_RSA_KEY=key_path, IDP_CLAIMS=os.path.abspath(a.claims), DJANGO_SETTINGS_MODULE="idpsite.settings")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import django
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed", password=a.password, client_id=a.client_id, client_secret=a.client_secret, redirect_uri=a.redirect_uri,
                 agent_client=a.agent_client, resource_server_client=a.resource_server_client)
    server = make_server("127.0.0.1", int(a.port), get_wsgi_application(), server_class=ThreadingServer, handler_class=QuietHandler)
    print(f"READY {issuer}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
