"""CPU of one API submission (``POST /api/v1/aid-requests/``) through the whole middleware stack
in this process (Django's test client: no network, no worker), and the floor of an
authenticated call (``GET`` of an unknown request: token, scope, row-level security, 404).

    DATABASE_URL=… CELERY_BROKER_URL=… .venv/bin/python bench/api.py [--requests 500] [--steps]

Uses its own database (``<name>_apibench``, recreated and migrated); the submissions are
queued on a private Celery queue that nobody drains. ``--steps`` samples the submissions with
py-spy (requirements-dev.txt; GIL held = CPU) and prints the share of each step, in ms
(``KEEP_RAW=1`` keeps py-spy's raw stacks and prints their file); ``--statements`` prints the
SQL of one submission.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import postgres_cpu, recreate_database, with_db  # noqa: E402

#: step → the frames that belong to it (the deepest matching step takes a sample)
STEPS: dict[str, tuple[str, ...]] = {
    "middleware, DRF dispatch, the rest": (),
    "token and membership (1 statement)": ("ApiTokenAuthentication.authenticate ",),
    "scope and row-level security (1)": ("ScopedAPIView.scope ", "db_scope_apply "),
    "request validation (serializer)": ("BaseSerializer.is_valid ",),
    "the school and the duplicates (1)": ("school_with_duplicates ",),
    "model validation (rules, full_clean)": ("aid_request_validate ", "Model.full_clean "),
    "the request's INSERT (1)": ("AidRequest.insert ",),
    "statistics rollup (1)": ("StatsTracker.done ",),
    "audit row (1)": ("audit_record ",),
    "notice row (1)": ("notices_on_submit ",),
    "commit, Redis and broker": ("Atomic.__exit__ ",),
    "the answer (detail)": ("AidRequestAPIView.detail_response ",),
    "clearing row-level security (1)": ("db_scope_clear ",),
    "metrics (summed in process)": ("observe ",),
}  # fmt: skip


def bodies(n: int, guardian: str, today: dt.date) -> list[str]:
    from portal.requests.services import current_academic_year_start
    from schools.identifiers import make_identifier

    year = current_academic_year_start(today)
    out, serial = [], 0
    while len(out) < n:
        day = dt.date(2011, 1, 1) + dt.timedelta(days=serial // 10000)
        iin = make_identifier(f"{day:%y%m%d}5{serial % 10000:04d}")
        serial += 1
        if iin:
            out.append(json.dumps({
                "student_iin": iin, "student_full_name": "Бенч Апи", "grade": 5,
                "guardian_iin": guardian, "guardian_full_name": "Бенч Родитель",
                "guardian_phone": "+77010000000", "ground": "asp", "aid_kind": "uniform",
                "amount_kzt": 50851, "academic_year": f"{year}-{year + 1}",
                "consent": {"method": "egov_sms", "reference": "bench",
                            "given_on": (today - dt.timedelta(days=1)).isoformat(),
                            "valid_until": (today + dt.timedelta(days=30)).isoformat()},
            }))  # fmt: skip
    return out


def steps_of(raw: Path, cpu_ms: float) -> None:
    """The share of each step in the samples of the submissions, as ms of ``cpu_ms``."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if "RequestFactory.post" not in stack or "importlib" in stack:
            continue
        frames = stack.split(";")
        hit = "middleware, DRF dispatch, the rest"
        for name, prefixes in STEPS.items():
            if prefixes and any(f.startswith(prefixes) for f in frames):
                hit = name
        counts[hit] += int(n)
        total += int(n)
    if not total:
        print("no samples (is py-spy installed? requirements-dev.txt)")
        return
    print(f"steps of a submission (py-spy, {total} samples; ms of the {cpu_ms:.1f} ms above):")
    for name in STEPS:
        share = counts[name] / total
        print(f"  {name:40s} {share * 100:5.1f} %  {share * cpu_ms:5.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--steps", action="store_true", help="sample the submissions with py-spy")
    ap.add_argument("--statements", action="store_true", help="print one submission's SQL")
    args = ap.parse_args()

    base_url = os.environ["DATABASE_URL"]
    bench_db = (urlparse(base_url).path.lstrip("/") or "komek") + "_apibench"
    os.environ.update({
        "DATABASE_URL": with_db(base_url, bench_db), "KOMEK_TESTING": "1",
        "CELERY_QUEUE": f"komek-apibench-{uuid.uuid4().hex[:8]}", "LOG_LEVEL": "WARNING",
    })  # fmt: skip
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    recreate_database(base_url, bench_db)

    import logging

    import django

    django.setup()
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    from portal.accounts.services import api_token_issue
    from schools.demo import demo_totp_secret, enroll_mfa
    from schools.identifiers import make_identifier
    from schools.models import District, Role, School
    from schools.services import geography_ensure, staff_member_create

    geography_ensure()
    n = 0
    while not (bin_ := make_identifier(f"99015{n:06d}")):
        n += 1
    school = School.objects.create(
        district=District.objects.get(code="KAR-KAZ"), bin=bin_, name_ru="Бенч", name_kk="Бенч"
    )
    user = staff_member_create(
        username="apibench", full_name="Бенч", email="apibench@example.kz", role=Role.PEDAGOGUE,
        unit_kwargs={"school": school}, password="Bench-Password-42",  # noqa: S106
    ).user  # fmt: skip
    enroll_mfa(user, demo_totp_secret("apibench"))
    token = api_token_issue(actor=user, name="bench", via="bench")[1]
    guardian = next(i for i in (make_identifier(f"850304600{k:02d}") for k in range(99)) if i)
    work = bodies(2 * args.requests + 30, guardian, dt.date.today())
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    codes: collections.Counter[int] = collections.Counter()

    def post(batch: list[str]) -> None:
        for body in batch:
            answer = client.post("/api/v1/aid-requests/", body, content_type="application/json")
            codes[answer.status_code] += 1

    raw = Path(tempfile.mkstemp(suffix=".txt")[1])
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        post(work[:29])  # first connections, imports, caches
        from django.db import connection

        sql_of_one: list[str] = []

        def record(execute, sql, params, many, context):  # noqa: ANN001, ANN202
            sql_of_one.append(("many: " if many else "") + " ".join(sql.split())[:110])
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            post(work[29:30])
        from portal.runtime import settle_heap

        settle_heap()  # as portal/wsgi.py does once the application is loaded
        pg0, cpu0 = postgres_cpu(), time.process_time()
        blocks = []  # this machine's speed drifts: the CPU of each tenth, the least disturbed
        size = max(1, args.requests // 10)
        for start in range(30, 30 + args.requests, size):
            b0 = time.process_time()
            post(work[start : min(start + size, 30 + args.requests)])
            blocks.append((time.process_time() - b0) * 1000 / len(work[start : start + size]))
        cpu, pg = time.process_time() - cpu0, postgres_cpu() - pg0
        if args.steps:  # a second set, sampled (the figures above are without a profiler)
            spy = subprocess.Popen(  # noqa: S603
                [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(os.getpid()),
                 "--gil", "--nonblocking", "-r", "500", "-f", "raw", "-o", str(raw)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1.0)
            post(work[30 + args.requests :])
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        g0 = time.process_time()
        for _ in range(args.requests):
            client.get(f"/api/v1/aid-requests/{uuid.UUID(int=0)}/")
        g = time.process_time() - g0
        h0 = time.process_time()
        for _ in range(args.requests):
            client.get("/healthz")
        h = time.process_time() - h0
    per = cpu * 1000 / args.requests
    print(f"answers: {dict(codes)}")
    print(f"API submission: {per:.2f} ms CPU in this process (PostgreSQL "
          f"{pg * 1000 / args.requests:.2f} ms), over {args.requests}")  # fmt: skip
    blocks.sort()
    print(
        f"  per tenth of them: least {blocks[0]:.2f} ms, median {blocks[len(blocks) // 2]:.2f} ms"
    )
    print(f"authenticated GET of an unknown request (404): {g * 1000 / args.requests:.2f} ms CPU")
    print(f"/healthz: {h * 1000 / args.requests:.2f} ms CPU")
    print(f"statements of one submission: {len(sql_of_one)}")
    if args.statements:
        print("\n".join(f"  {sql}" for sql in sql_of_one))
    if args.steps:
        steps_of(raw, per)
    if not os.environ.get("KEEP_RAW"):
        raw.unlink(missing_ok=True)
    else:
        print(raw)
    from django.db import connections

    connections.close_all()


if __name__ == "__main__":
    main()
