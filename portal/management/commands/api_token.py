"""Issue (or show) the API token of a user: `python manage.py api_token USERNAME`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from portal.audit.services import audit_record


class Command(BaseCommand):
    help = "Issue an API token (Authorization: Token …) for USERNAME; --rotate replaces it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=options["username"], is_active=True)
        except User.DoesNotExist:
            raise CommandError("no active user with that username") from None
        with transaction.atomic():
            if options["rotate"]:
                Token.objects.filter(user=user).delete()
            token, created = Token.objects.get_or_create(user=user)
            audit_record(
                action="api_token.issue" if created else "api_token.show",
                actor=user,
                object_type="user",
                object_id=str(user.pk),
                detail={"via": "manage.py"},
            )
        self.stdout.write(token.key)
