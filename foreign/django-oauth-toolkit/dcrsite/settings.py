"""A minimal Django project serving django-oauth-toolkit (DOT) with Dynamic Client Registration
(RFC 7591) and its management (RFC 7592) turned on, for dcr-harness's interop matrix.

Environment (set by scripts/foreign/django-oauth-toolkit.sh):
  DOT_STATE_DIR  where the sqlite database lives (required)
  DOT_CONFIG     `default` (open registration, as DOT's documentation shows and as public
                 deployments configure it) or `initial-access-token` (DOT's own default
                 permission class: registration needs an authenticated user, here through a
                 bearer access token of a user: the RFC 7591 §3 initial access token)
  DOT_SECRET_KEY Django's SECRET_KEY (a test value by default)
"""

import os
from pathlib import Path

STATE_DIR = Path(os.environ["DOT_STATE_DIR"]).resolve()
CONFIG = os.environ.get("DOT_CONFIG", "default")
if CONFIG not in ("default", "initial-access-token"):
    raise RuntimeError(f"unknown DOT_CONFIG {CONFIG!r}")

SECRET_KEY = os.environ.get("DOT_SECRET_KEY", "dcr-harness-test-only-not-a-secret-0123456789abcdef")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
if CONFIG == "initial-access-token":
    # DOT's documented way to authenticate a user from a bearer token (docs: "Using the
    # middleware"): the registration endpoint's default IsAuthenticatedDCRPermission then
    # admits a request whose bearer is a valid access token of a user.
    MIDDLEWARE.append("oauth2_provider.middleware.OAuth2TokenMiddleware")
    AUTHENTICATION_BACKENDS.insert(0, "oauth2_provider.backends.OAuth2Backend")

ROOT_URLCONF = "dcrsite.urls"
WSGI_APPLICATION = "dcrsite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(STATE_DIR / "db.sqlite3"),
        # Django's advice for sqlite under concurrent writers (waitress serves with threads).
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth"]},
    }
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "WARNING"},
        "oauth2_provider": {"handlers": ["console"], "level": "WARNING"},
    },
}

OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read scope", "write": "Write scope"},
    "DCR_ENABLED": True,
    # The client_credentials grant is DOT's default set already (OAUTH2_GRANT_TYPES_SUPPORTED);
    # a client registered with grant_types ["client_credentials"] gets it at /token/.
}
if CONFIG == "default":
    OAUTH2_PROVIDER["DCR_REGISTRATION_PERMISSION_CLASSES"] = ("oauth2_provider.dcr.AllowAllDCRPermission",)
