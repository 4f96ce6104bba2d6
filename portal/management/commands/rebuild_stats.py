"""Rebuild the statistics rollup from scratch from requests, assessments and decisions."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from portal.db_scope import cross_school_job
from portal.stats.services import stats_rebuild


class Command(BaseCommand):
    help = "Rebuild the statistics rollup (portal_statsbucket) from the requests."

    @cross_school_job("manage.py rebuild_stats")
    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        rows = stats_rebuild()
        self.stdout.write(
            _("Статистика пересчитана: %(rows)s строк за %(sec).1f с.")
            % {"rows": rows, "sec": time.monotonic() - started}
        )
