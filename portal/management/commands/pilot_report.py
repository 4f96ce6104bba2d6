"""The pilot's published figures side by side with what the portal's DATABASE says.

    python manage.py pilot_report            # a table
    python manage.py pilot_report --json     # {"metrics": [...], "categories": {...}}

Schools come from the school table; requests, flags and categories from the statistics rollup
(the same figures the dashboards show). ``--requests``/``--high-welfare`` change the expected
figures for a smaller seeded world (as ``seed_demo`` takes them).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from portal.db_scope import cross_school_job
from portal.demo.pilot import parse_high_welfare
from portal.demo.report import labels, pilot_report
from scoring.simulator.population import PILOT_HIGH_WELFARE, PILOT_REQUESTS


class Command(BaseCommand):
    help = "Compare the pilot's published figures with the portal's data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--requests", type=int, default=PILOT_REQUESTS)
        parser.add_argument(
            "--high-welfare",
            default=",".join(f"{k}={v}" for k, v in sorted(PILOT_HIGH_WELFARE.items())),
        )

    @cross_school_job("manage.py pilot_report")
    def handle(self, *args: Any, **options: Any) -> None:
        report = pilot_report(
            requests=options["requests"],
            high_welfare=dict(parse_high_welfare(options["high_welfare"])),
        )
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        names = labels()
        head = (_("Показатель"), _("Опубликовано"), _("Портал"), _("Совпадает"))
        self.stdout.write(f"{head[0]:<34}{head[1]:>14}{head[2]:>12}  {head[3]}")
        for m in report["metrics"]:
            mark = _("да") if m["match"] else _("НЕТ")
            self.stdout.write(
                f"{names[m['name']]:<34}{m['published']:>14,}{m['portal']:>12,}  {mark}".replace(
                    ",", " "
                )
            )
        self.stdout.write(_("Распределение по категориям:"))
        total = sum(report["categories"].values()) or 1
        label = _("категория")
        for c, n in report["categories"].items():
            self.stdout.write(
                f"  {label} {c}: {n:>7,} ({100 * n / total:5.1f} %)".replace(",", " ")
            )
        ok = all(m["match"] for m in report["metrics"])
        self.stdout.write(_("Все показатели совпадают.") if ok else _("Есть расхождения."))
