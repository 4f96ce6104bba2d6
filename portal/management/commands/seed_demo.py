"""Build the pilot world reproducibly (fixed seed) and score it through the real pipeline.

    python manage.py seed_demo                      # 317 schools, 22,382 requests, 74 flags
    python manage.py seed_demo --workers 2          # score in 2 local processes (no Celery)
    python manage.py seed_demo --requests 300 --high-welfare KAR=2,SHY=3   # a small world

Steps: schools (pilot_network_seed) → demo accounts and staff for every school and unit →
the synthetic population loaded into the family card simulator → one request per family
submitted as each school's class list (``aid_requests_submit_batch``) → scored in chunks by the
Celery worker (``aid_requests_score_batch``; or the same service in local processes with
``--workers``), cards fetched over HTTP from the simulator's batch endpoint. Idempotent and
resumable: a re-run skips what exists and continues. Prints counts, never an ИИН or a name.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from portal.db_scope import cross_school_job
from portal.demo import pilot
from portal.demo.pilot import parse_high_welfare
from schools.demo import demo_staff_ensure
from schools.services import pilot_network_seed


def fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    return f"{seconds // 60} мин {seconds % 60:02d} с" if seconds >= 60 else f"{seconds} с"


class Command(BaseCommand):
    help = "Seed the pilot world (schools, staff, population, requests) and score it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2025)
        parser.add_argument("--requests", type=int, default=pilot.PILOT_REQUESTS)
        parser.add_argument(
            "--high-welfare",
            default=",".join(f"{k}={v}" for k, v in sorted(pilot.PILOT_HIGH_WELFARE.items())),
            help="high-welfare families per region, e.g. KAR=16,SHY=58",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="score in N local processes (0: in this process) instead of Celery tasks",
        )
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait")

    def say(self, msg: str) -> None:
        self.stdout.write(msg)
        self.stdout.flush()

    @cross_school_job("manage.py seed_demo")
    def handle(self, *args: Any, **options: Any) -> None:
        from django.apps import apps

        if not apps.is_installed("scoring.simulator"):
            raise CommandError(
                _(
                    "Демо-данные берут карты семей из симулятора: включите его "
                    "(FAMILY_CARD_SIM_ENABLED=1 и FAMILY_CARD_SIM_SECRET; `make demo` делает это сам)."
                )
            )
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per card otherwise
        started = time.monotonic()
        plan = pilot.SeedPlan(
            seed=options["seed"],
            requests=options["requests"],
            high_welfare=parse_high_welfare(options["high_welfare"]),
        )
        workers = options["workers"]
        counts = pilot_network_seed(seed=plan.seed)
        self.say(
            _("Школы пилота: %(kar)s + %(shy)s")
            % {"kar": counts.get("KAR", 0), "shy": counts.get("SHY", 0)}
        )
        demo_staff_ensure()
        created = pilot.pilot_staff_ensure()
        self.say(_("Сотрудники: создано %(n)s") % {"n": created})
        t = time.monotonic()
        families = pilot.pilot_families(plan)
        loaded = pilot.pilot_cards_load(families)
        self.say(
            _("Население: %(n)s семей, загружено в симулятор %(l)s карт (%(s).1f с)")
            % {"n": len(families), "l": loaded, "s": time.monotonic() - t}
        )
        t = time.monotonic()

        def submit_progress(done: int, total: int) -> None:
            self.say(_("  подано %(d)s / %(t)s") % {"d": done, "t": total})

        submitted = pilot.pilot_requests_submit(
            families, enqueue=workers is None, progress=submit_progress
        )
        self.say(
            _("Заявки: подано %(n)s (%(s).1f с)") % {"n": submitted, "s": time.monotonic() - t}
        )
        self.score(workers, options["timeout"], fresh=submitted)
        self.say(_("Готово за %(s).1f с.") % {"s": time.monotonic() - started})

    def score(self, workers: int | None, timeout: float, fresh: int) -> None:
        from portal.requests.models import AidRequest

        total = AidRequest.objects.unscoped().count()
        ids = pilot.active_request_ids()
        if not ids:
            self.say(_("Оценка: все %(n)s заявок уже оценены.") % {"n": total})
            return
        t = time.monotonic()
        procs: list[Any] = []
        from portal.requests.tasks import SCORING_CHUNK

        if workers is None:
            # Requests left active by an earlier, interrupted run are sent again (idempotent).
            if len(ids) > fresh:
                pilot.requests_enqueue(ids)
            self.say(
                _("Оценка: %(n)s заявок в очереди Celery (частями по %(chunk)s)")
                % {"n": len(ids), "chunk": SCORING_CHUNK}
            )
        elif workers == 0:
            self.say(_("Оценка в этом процессе: %(n)s заявок") % {"n": len(ids)})
            pilot.requests_score_local(ids, 0)
        else:
            self.say(
                _("Оценка в %(w)s локальных процессах: %(n)s заявок")
                % {"w": workers, "n": len(ids)}
            )
            procs = pilot.requests_score_local(ids, workers)
        progress = pilot.Progress(total=total, started=t, start_done=total - len(ids))
        deadline = time.monotonic() + timeout
        while True:
            done = pilot.scored_count()
            where, rate, eta = progress.line(done)
            self.say(
                _("  оценено %(where)s, %(rate).0f заявок/с, осталось ~%(eta)s")
                % {"where": where, "rate": rate, "eta": fmt_eta(eta)}
            )
            if done >= total:
                break
            if procs and not any(p.is_alive() for p in procs):
                left = pilot.active_request_ids()
                if left:
                    self.say(_("  не оценено %(n)s: повторите seed_demo") % {"n": len(left)})
                break
            if time.monotonic() > deadline:
                raise CommandError(_("Оценка не завершилась за отведённое время."))
            time.sleep(2 if total > 1000 else 0.5)
        for p in procs:
            p.join()
        self.say(_("Оценка: %(s).1f с") % {"s": time.monotonic() - t})
