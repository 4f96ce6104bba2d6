"""``manage.py retention [--dry-run]``: erase family data whose retention period has passed
(portal.privacy.services.retention_run). Prints counts only, never an identifier."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.privacy.services import retention_run


class Command(BaseCommand):
    help = "Erase family data of requests closed longer ago than the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be erased, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = retention_run(dry_run=options["dry_run"])
        verb = "would erase" if report.dry_run else "erased"
        c = report.counts()
        self.stdout.write(
            f"retention ({'dry run' if report.dry_run else 'run'}): {verb} "
            f"{c['requests']} requests ({c['requests_approved']} approved, "
            f"{c['requests_closed']} rejected or withdrawn), {c['assessments']} assessment cards, "
            f"{c['notices']} notices, {c['letters']} letters; {c['held']} due but held"
        )
