"""Creates the test users (from the claims file, each with the password given), mcpctl's confidential client
and, when asked, an agent client (password grant) and a resource-server client (RFC 7662 introspection)."""
import json
import os

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from oauth2_provider.models import Application


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--password", required=True)
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--redirect-uri", required=True)
        parser.add_argument("--agent-client", default=None, help="ID:SECRET of a client allowed the password grant")
        parser.add_argument("--resource-server-client", default=None, help="ID:SECRET of a client that introspects")

    def handle(self, *args, **o):
        with open(os.environ["IDP_CLAIMS"]) as f:
            claims = json.load(f)
        for username, entry in claims.items():
            User.objects.create_user(username=username, email=entry.get("email", ""), password=o["password"])
        Application.objects.create(
            name="mcpctl", client_id=o["client_id"], client_secret=o["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=o["redirect_uri"], algorithm=Application.RS256_ALGORITHM, skip_authorization=True)
        # DOT's IntrospectTokenView accepts any authenticated confidential client (HTTP Basic, RFC 6749 §2.3.1).
        for name, pair, grant in (("agent", o["agent_client"], Application.GRANT_PASSWORD),
                                  ("resource-server", o["resource_server_client"], Application.GRANT_CLIENT_CREDENTIALS)):
            if pair:
                client_id, secret = pair.split(":", 1)
                Application.objects.create(name=name, client_id=client_id, client_secret=secret,
                                           client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=grant)
