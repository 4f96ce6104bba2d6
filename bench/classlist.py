"""Class lists: rows accepted per second (CSV read, every row validated, set-based save).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/komek CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/classlist.py [--rows 2000]

Uses its own database (``<name>_classlist``, recreated and migrated). Prints wall time and CPU
time (this process + PostgreSQL) per row: on a shared machine the CPU figure is the one to
compare. Enqueuing is off (the pipeline's cost is bench/pipeline.py's). No personal data.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import postgres_cpu, recreate_database, with_db  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--profile", action="store_true", help="cProfile: the heaviest functions")
    args = ap.parse_args()
    base_url = os.environ["DATABASE_URL"]
    db = (urlparse(base_url).path.lstrip("/") or "komek") + "_classlist"
    os.environ.update({"DATABASE_URL": with_db(base_url, db), "KOMEK_TESTING": "1"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    recreate_database(base_url, db)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from portal.requests.batch import aid_requests_submit_batch
    from portal.requests.classlist import parse_class_list
    from schools.identifiers import make_identifier
    from schools.models import District, Role, School
    from schools.scope import scope_for
    from schools.services import geography_ensure, staff_member_create

    geography_ensure()
    district = District.objects.get(code="KAR-KAZ")
    n = 0
    while not (bin_ := make_identifier(f"99015{n:06d}")):
        n += 1
    school = School.objects.create(district=district, bin=bin_, name_ru="Бенч", name_kk="Бенч")
    user = staff_member_create(
        username="bench_classlist", full_name="Бенч", email="bench@example.kz",
        role=Role.PEDAGOGUE, unit_kwargs={"school": school}, password="Bench-Password-42",  # noqa: S106
    ).user  # fmt: skip
    guardian = next(i for i in (make_identifier(f"850304600{k:02d}") for k in range(99)) if i)
    today = dt.date.today()
    out = io.StringIO()
    fields = [
        "student_iin", "student_full_name", "grade", "guardian_iin", "guardian_full_name",
        "guardian_phone", "ground", "aid_kind", "amount_kzt", "academic_year",
        "consent_method", "consent_reference", "consent_given_on", "consent_valid_until",
    ]  # fmt: skip
    writer = csv.writer(out)
    writer.writerow(fields)
    serial, written = 0, 0
    birth = dt.date(2012, 1, 1)
    while written < args.rows:
        day = birth + dt.timedelta(days=serial // 50)
        iin = make_identifier(f"{day:%y%m%d}5{serial % 10000:04d}")
        serial += 1
        if not iin:
            continue
        writer.writerow([
            iin, "Бенч Учащийся", 5, guardian, "Бенч Родитель", "+77010000000", "asp",
            "uniform", 50851, "2026-2027", "egov_sms", "bench",
            (today - dt.timedelta(days=1)).isoformat(), (today + dt.timedelta(days=30)).isoformat(),
        ])  # fmt: skip
        written += 1
    content = out.getvalue().encode()
    scope = scope_for(user)
    pg0, cpu0, wall0 = postgres_cpu(), time.process_time(), time.perf_counter()
    rows = parse_class_list(content, "bench.csv")
    t_parse = time.perf_counter() - wall0
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile(time.process_time)
        prof.enable()
    result = aid_requests_submit_batch(scope=scope, actor=user, rows=rows, enqueue=False)
    wall = time.perf_counter() - wall0
    if args.profile:
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(r"(portal|scoring|schools)/", 25)
    cpu = time.process_time() - cpu0 + postgres_cpu() - pg0
    assert result.saved and len(result.created) == args.rows, result.errors[:3]
    print(f"class list: {args.rows} rows (CSV {len(content) // 1024} KB)")
    print(f"wall: {wall:.2f} s (read {t_parse:.2f} s) → {args.rows / wall:.0f} rows/s")
    print(f"CPU (this process + PostgreSQL): {cpu * 1000 / args.rows:.2f} ms per row "
          f"→ {args.rows / cpu:.0f} rows/s per core")  # fmt: skip
    from django.db import connection

    connection.close()


if __name__ == "__main__":
    main()
