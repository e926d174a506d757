"""ID-token claims from a JSON file the tests rewrite between sign-ins:
{"alice": {"email": "...", "email_verified": true, "groups": ["eng"]}, ...}. A user without "groups" gets
no groups claim at all (so the relying party's fail-closed rule can be tested)."""
import json
import os

from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    # Every claim goes into the ID token whatever the scopes (the groups claim has no standard scope).
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        with open(os.environ["IDP_CLAIMS"]) as f:
            entry = json.load(f).get(request.user.username, {})
        claims = {"name": request.user.username}
        for key in ("email", "email_verified", "groups"):
            if key in entry:
                claims[key] = entry[key]
        return claims
