"""Migrate away from DRF's plain ``authtoken_token`` table.

Each plain token of a user who has TOTP becomes a knox token (only its SHA-512 digest is
kept, expiring API_TOKEN_TTL_DAYS from now, named "migrated"); tokens of users without TOTP
are dropped (tokens are issued only to MFA-enrolled users). Then the plain table is dropped,
so no token stays readable in the database.
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone

KNOX_TOKEN_KEY_LENGTH = 15


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cur:
        tables = connection.introspection.table_names(cur)
        if "authtoken_token" not in tables:
            return
        cur.execute("SELECT key, user_id FROM authtoken_token")
        rows = cur.fetchall()
    ApiToken = apps.get_model("accounts", "ApiToken")
    Authenticator = apps.get_model("mfa", "Authenticator")
    enrolled = set(Authenticator.objects.filter(type="totp").values_list("user_id", flat=True))
    expiry = timezone.now() + dt.timedelta(days=int(getattr(settings, "API_TOKEN_TTL_DAYS", 30)))
    for key, user_id in rows:
        if user_id not in enrolled:
            continue
        ApiToken(
            digest=hashlib.sha512(key.encode("utf-8")).hexdigest(),
            token_key=key[:KNOX_TOKEN_KEY_LENGTH],
            user_id=user_id,
            expiry=expiry,
            name="migrated",
        ).save(force_insert=True)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE authtoken_token")
        cur.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("mfa", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
