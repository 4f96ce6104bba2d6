"""``manage.py person_record <ИИН>``: write a person's own record (PDF) and print its path.
Runs as the system auditor's production: one audit row, no ИИН in it or in the output."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.privacy.record import person_record_produce, person_record_write
from schools.scope import Scope


class Command(BaseCommand):
    help = "Write everything the portal holds about one person (by ИИН) as a PDF; print its path."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("iin")

    def handle(self, *args: Any, iin: str, **options: Any) -> None:
        scope = Scope(user_id=None, role="auditor", level="national")
        try:
            _record, pdf = person_record_produce(scope=scope, actor=None, iin=iin)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(str(person_record_write(pdf)))
