"""Throwaway settings of a real OpenID Connect provider (django-oauth-toolkit) for mcpctl's SSO tests.

Everything comes from the environment set by ../serve_idp.py: the sqlite file in a temporary directory,
the issuer URL, the RSA signing key and the claims file. Nothing here is fit for production.
"""
import os

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = os.environ["IDP_DJANGO_SECRET"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "idpsite",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "idpsite.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [os.path.join(BASE_DIR, "templates")],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                       "django.contrib.auth.context_processors.auth"]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["IDP_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast: test users only
LOGIN_URL = "/accounts/login/"
# Two providers on one loopback address (this IdP and mcpctl) must not share a cookie name.
SESSION_COOKIE_NAME = "idp_session"
CSRF_COOKIE_NAME = "idp_csrf"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": os.environ["IDP_ISSUER"],
    "OIDC_RSA_PRIVATE_KEY": open(os.environ["IDP_RSA_KEY"]).read(),
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "idpsite.validator.ClaimsValidator",
    # read/write/delete: the scopes mcpctl's gateway understands, for opaque access tokens it introspects.
    "SCOPES": {"openid": "OpenID Connect", "email": "Email address", "profile": "Profile",
               "read": "Read", "write": "Write", "delete": "Delete"},
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
}
