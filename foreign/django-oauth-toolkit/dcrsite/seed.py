"""Seeds the `initial-access-token` configuration: a user and a bearer access token of that user,
whose value the profile sends as the RFC 7591 §3 initial access token. Idempotent."""

import datetime
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dcrsite.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from oauth2_provider.models import get_access_token_model, set_token_value  # noqa: E402

value = sys.argv[1]
user, _ = get_user_model().objects.get_or_create(username="dcr-registrar")
AccessToken = get_access_token_model()
if not AccessToken.objects.filter(user=user, scope="read").exists():
    token = AccessToken(
        user=user,
        scope="read",
        expires=datetime.datetime(9999, 12, 31, tzinfo=datetime.timezone.utc),
    )
    set_token_value(token, value)
    token.save()
