"""API tokens from the command line (django-rest-knox: shown once, stored as a digest).

python manage.py api_token USERNAME [--name NAME]   # issue a new token, print it once
python manage.py api_token USERNAME --list          # the user's tokens (no secrets)
python manage.py api_token USERNAME --revoke ID     # revoke one (ID from --list)
python manage.py api_token USERNAME --rotate        # revoke all, issue a new one
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from portal.accounts.models import ApiToken
from portal.accounts.services import api_token_issue, api_token_revoke


class Command(BaseCommand):
    help = (
        "Issue an API token (Authorization: Token …) for USERNAME, printed once; "
        "--list, --revoke ID, --rotate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="manage.py", help="what the token is for")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--list", action="store_true", help="list the user's tokens")
        group.add_argument("--revoke", metavar="ID", help="revoke the token with this id")
        group.add_argument("--rotate", action="store_true", help="revoke all, issue a new one")

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=options["username"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(_("Нет активного пользователя с таким именем.")) from None
        tokens = ApiToken.objects.filter(user=user).order_by("-created")
        if options["list"]:
            for t in tokens:
                self.stdout.write(
                    "\t".join(
                        [
                            str(t.public_id),
                            t.name,
                            t.created.isoformat(timespec="seconds"),
                            t.expiry.isoformat(timespec="seconds") if t.expiry else "-",
                            t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "-",
                        ]
                    )
                )
            return
        if options["revoke"]:
            try:
                token = tokens.filter(public_id=options["revoke"]).first()
            except ValidationError:
                token = None
            if token is None:
                raise CommandError(_("У пользователя нет токена с таким идентификатором."))
            api_token_revoke(actor=user, token=token, via="manage.py")
            self.stdout.write(_("Токен отозван."))
            return
        try:
            with transaction.atomic():
                if options["rotate"]:
                    for token in tokens:
                        api_token_revoke(actor=user, token=token, via="manage.py")
                _row, secret = api_token_issue(
                    actor=user, name=str(options["name"]), via="manage.py"
                )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(secret)
