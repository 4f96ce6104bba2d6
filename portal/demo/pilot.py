"""The pilot world, reproduced: schools, staff, the synthetic population in the family card
simulator, and its requests submitted and scored through the real services.

Used by ``manage.py seed_demo``. Output never contains an ИИН or a name: counts only.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.notices.services import notices_suppressed
from portal.requests import services
from portal.requests.models import ACTIVE_STATUSES, AidRequest
from schools.models import District, Membership, Region, Role, School
from schools.scope import scope_for
from schools.services import staff_member_create
from scoring.simulator.population import (
    PILOT_ACADEMIC_YEAR,
    PILOT_HIGH_WELFARE,
    PILOT_REQUESTS,
    PilotFamily,
    SchoolSlot,
    pilot_population,
)

logger = logging.getLogger(__name__)
SUBMIT_BATCH = 500


@dataclass(frozen=True)
class SeedPlan:
    seed: int = 2025
    requests: int = PILOT_REQUESTS
    high_welfare: tuple[tuple[str, int], ...] = tuple(sorted(PILOT_HIGH_WELFARE.items()))


def parse_high_welfare(value: str) -> tuple[tuple[str, int], ...]:
    """``"KAR=16,SHY=58"`` → ``(("KAR", 16), ("SHY", 58))`` (``CommandError`` if malformed)."""
    out = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        region, _sep, n = part.partition("=")
        if not n.isdigit():
            raise CommandError(_("Формат --high-welfare: KAR=16,SHY=58"))
        out[region.strip().upper()] = int(n)
    return tuple(sorted(out.items()))


def pilot_staff_ensure() -> int:
    """A pedagogue for every connected school, an analyst for every district and region.
    Idempotent; no passwords (staff are invited by e-mail). Returns how many were created."""
    existing = set(Membership.objects.values_list("user__username", flat=True))
    created = 0
    wanted: list[tuple[str, str, str, dict]] = []
    for school in School.objects.filter(connected=True).order_by("bin"):
        name = f"Педагог школы №{school.number or school.pk}"
        wanted.append(
            (f"{PILOT_PEDAGOGUE_PREFIX}{school.bin}", name, Role.PEDAGOGUE, {"school": school})
        )
    for district in District.objects.order_by("code"):
        wanted.append(
            (f"da-{district.code.lower()}", "Аналитик района", Role.DISTRICT_ANALYST,
             {"district": district})
        )  # fmt: skip
    for region in Region.objects.order_by("code"):
        wanted.append(
            (f"ra-{region.code.lower()}", "Аналитик региона", Role.REGION_ANALYST,
             {"region": region})
        )  # fmt: skip
    for username, full_name, role, unit in wanted:
        if username in existing:
            continue
        staff_member_create(
            username=username,
            full_name=full_name,
            email=f"{username}@pilot.komek.kz",
            role=role,
            unit_kwargs=unit,
        )
        created += 1
    return created


def pilot_families(plan: SeedPlan) -> list[PilotFamily]:
    slots = [
        SchoolSlot(bin=b, region=r, student_count=n)
        for b, r, n in School.objects.filter(connected=True).values_list(
            "bin", "district__region__code", "student_count"
        )
    ]
    return list(
        pilot_population(
            slots, seed=plan.seed, total=plan.requests, high_welfare=dict(plan.high_welfare)
        )
    )


def pilot_cards_load(families: Iterable[PilotFamily]) -> int:
    """Load the families' cards into the simulator (skips what is already loaded)."""
    from scoring.card import parse_card
    from scoring.simulator.models import SimulatedCard
    from scoring.simulator.services import CardToLoad, simulated_cards_load

    families = list(families)
    loaded = set(
        SimulatedCard.objects.filter(family_id__startswith="PILOT-")
        .values_list("family_id", flat=True)
        .distinct()
    )
    todo = [f for f in families if f.card["family_id"] not in loaded]
    for start in range(0, len(todo), 2000):
        cards = []
        for f in todo[start : start + 2000]:
            card = parse_card(f.card)
            cards.append(
                CardToLoad(
                    file="pilot",
                    index=f.index,
                    doc=f.card,
                    sha256=card.sha256(),
                    family_id=card.family_id,
                    member_iins=tuple(m.iin for m in card.members),
                )
            )
        simulated_cards_load(cards)
    return len(todo)


#: How a seeded pilot request is told from any other (e.g. typed by hand while the demo seeds):
#: submitted by a pilot pedagogue (``ped-<BIN>``, accounts without a password) for the pilot's
#: academic year with a ``PILOT-`` consent reference.
PILOT_CONSENT_PREFIX = "PILOT-"
PILOT_PEDAGOGUE_PREFIX = "ped-"


def pilot_cohort() -> Any:
    """The seeded pilot requests (a deliberate all-schools read, like the report itself)."""
    return AidRequest.objects.unscoped().filter(
        academic_year=PILOT_ACADEMIC_YEAR,
        consent_reference__startswith=PILOT_CONSENT_PREFIX,
        created_by__username__startswith=PILOT_PEDAGOGUE_PREFIX,
    )


def _request_data(f: PilotFamily, today: dt.date) -> dict[str, Any]:
    return {
        "student_iin": f.student_iin,
        "student_full_name": f.student_full_name,
        "grade": f.grade,
        "guardian_iin": f.guardian_iin,
        "guardian_full_name": f.guardian_full_name,
        "guardian_phone": f.guardian_phone.replace(" ", ""),
        "ground": f.ground,
        "aid_kind": f.aid_kind,
        "amount_kzt": f.amount_kzt,
        "academic_year": PILOT_ACADEMIC_YEAR,
        "comment": "",
        "consent_method": "egov_sms",
        "consent_reference": f"{PILOT_CONSENT_PREFIX}{f.index:06d}",
        "consent_given_on": today - dt.timedelta(days=1),
        "consent_valid_until": today + dt.timedelta(days=365),
    }


def pilot_requests_submit(
    families: list[PilotFamily],
    *,
    enqueue: bool,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Submit the families' requests as each school's pedagogue would upload its class list:
    one :func:`~portal.requests.batch.aid_requests_submit_batch` per school (every row
    validated, set-based save, audit, statistics; queued in chunks when ``enqueue``). Skips
    requests already there (a re-run). Returns how many were created."""
    from portal.requests.batch import aid_requests_submit_batch

    schools = dict(School.objects.filter(connected=True).values_list("bin", "pk"))
    done = set(
        AidRequest.objects.unscoped()
        .open()
        .filter(academic_year=PILOT_ACADEMIC_YEAR)
        .values_list("school_id", "student_iin", "aid_kind")
    )
    todo = [f for f in families if (schools[f.school_bin], f.student_iin, f.aid_kind) not in done]
    pedagogues = {
        m.school_id: m.user
        for m in Membership.objects.select_related("user").filter(
            role=Role.PEDAGOGUE, user__username__startswith=PILOT_PEDAGOGUE_PREFIX
        )
    }
    by_school: dict[int, list[PilotFamily]] = {}
    for f in todo:
        by_school.setdefault(schools[f.school_bin], []).append(f)
    today = timezone.localdate()
    submitted = handled = 0
    reported = 0
    for school_id, group in by_school.items():
        user = pedagogues[school_id]
        # Synthetic families: no SMS or e-mail to their (synthetic) guardians.
        with notices_suppressed():
            result = aid_requests_submit_batch(
                scope=scope_for(user),
                actor=user,
                rows=[(k + 2, _request_data(f, today)) for k, f in enumerate(group)],
                save_valid=True,
                via="seed",
                enqueue=enqueue,
            )
        submitted += len(result.created)
        handled += len(group)
        if progress and (handled - reported >= SUBMIT_BATCH or handled == len(todo)):
            reported = handled
            progress(handled, len(todo))
    return submitted


def active_request_ids() -> list[int]:
    return list(
        AidRequest.objects.unscoped()
        .filter(status__in=ACTIVE_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def requests_enqueue(ids: Iterable[int]) -> int:
    """(Re-)send ids to Celery: the task is idempotent, duplicates are skipped."""
    from portal.requests import tasks

    ids = list(ids)
    tasks.enqueue_scoring(ids)
    return len(ids)


def _score_worker(ids: list[int]) -> None:
    connections.close_all()
    from portal.requests.tasks import SCORING_CHUNK
    from scoring.sources import get_card_source

    source = get_card_source()
    try:
        for start in range(0, len(ids), SCORING_CHUNK):
            chunk = ids[start : start + SCORING_CHUNK]
            try:
                services.aid_requests_score_many(request_ids=chunk, source=source)
            except Exception:  # noqa: BLE001 - the requests stay active; a re-run retries them
                logger.warning("seed: scoring a chunk of %d failed", len(chunk), exc_info=True)
    finally:
        source.close()
        connections.close_all()


def requests_score_local(ids: list[int], workers: int) -> list[Any]:
    """Score `ids` with the same service as the Celery task in `workers` local processes
    (0: in this process). Returns the started processes (to join)."""
    if workers <= 0:
        _score_worker(ids)
        return []
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_score_worker, args=(ids[k::workers],)) for k in range(workers)]
    for p in procs:
        p.start()
    return procs


@dataclass
class Progress:
    total: int
    started: float
    start_done: int

    def line(self, done: int) -> tuple[str, float, float | None]:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = (done - self.start_done) / elapsed
        eta = (self.total - done) / rate if rate > 0 else None
        return f"{done}/{self.total}", rate, eta


def scored_count() -> int:
    return AidRequest.objects.unscoped().exclude(status__in=ACTIVE_STATUSES).count()
