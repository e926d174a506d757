"""Creates the test users (from the claims file, each with the password given) and mcpctl's confidential client."""
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

    def handle(self, *args, **o):
        with open(os.environ["IDP_CLAIMS"]) as f:
            claims = json.load(f)
        for username, entry in claims.items():
            User.objects.create_user(username=username, email=entry.get("email", ""), password=o["password"])
        Application.objects.create(
            name="mcpctl", client_id=o["client_id"], client_secret=o["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=o["redirect_uri"], algorithm=Application.RS256_ALGORITHM, skip_authorization=True)
