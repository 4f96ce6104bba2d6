"""End-to-end throughput of the aid-request pipeline: API submit → Celery → card simulator → scored.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/komek CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/pipeline.py [--requests 400] [--submitters 20] [--latency-ms 100]

Uses its own database (``<name>_bench``, recreated and migrated), its own Celery queue and
simulator fault prefix; starts gunicorn (portal + /familycard-sim/) and a Celery worker on
127.0.0.1 only, submits N requests through ``POST /api/v1/aid-requests/`` from 20 concurrent
submitters, waits until every request is scored and prints submitted/s, scored/s and the
p50/p95 of submit → scored. Prints no personal data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_db(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path="/" + name))


def recreate_database(server_url: str, name: str) -> None:
    """Drop and create the benchmark's own database ``name`` on ``server_url``'s server."""
    import psycopg

    admin = urlparse(server_url)
    with psycopg.connect(
        host=admin.hostname, port=admin.port or 5432, user=admin.username,
        password=admin.password, dbname="postgres", autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def postgres_cpu() -> float:
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] and proc.info["name"].startswith("postgres"):
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
    return total


def cpu_used(procs: list, pg_before: float) -> list[tuple[str, float]]:
    """CPU time of each process tree (parent and children), and of PostgreSQL, for the run."""
    import psutil

    out = []
    names = ["API server", "card + SMS simulators"] + [
        f"Celery worker {k + 1}" for k in range(len(procs) - 2)
    ]
    for name, p in zip(names, procs, strict=False):
        total = 0.0
        try:
            parent = psutil.Process(p.pid)
            for proc in [parent, *parent.children(recursive=True)]:
                t = proc.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            pass
        out.append((name, total))
    out.append(("PostgreSQL", postgres_cpu() - pg_before))
    return out


def copy_floor(n: int) -> None:
    """CPU of writing the rows the run wrote (requests, scorings, assessments, audit events)
    again with one COPY each: the floor of what storing them costs."""
    if not n:
        return
    from django.db import connection

    from portal.audit.models import AuditEvent
    from portal.requests.models import AidRequest, AidRequestScoring
    from scoring.models import Assessment

    names = [m._meta.db_table for m in (AidRequest, AidRequestScoring, Assessment, AuditEvent)]
    pg0, cpu0, wall0 = postgres_cpu(), time.process_time(), time.perf_counter()
    rows = 0
    with connection.cursor() as cur:
        raw = cur.connection  # psycopg 3
        for name in names:
            buf = bytearray()
            with raw.cursor().copy(f'COPY "{name}" TO STDOUT') as copy:
                for data in copy:
                    buf += data
            raw.execute(f'CREATE TEMP TABLE "floor_{name}" (LIKE "{name}")')
            with raw.cursor().copy(f'COPY "floor_{name}" FROM STDIN') as copy:
                copy.write(bytes(buf))
            rows += raw.execute(f'SELECT count(*) FROM "floor_{name}"').fetchone()[0]
            raw.execute(f'DROP TABLE "floor_{name}"')
    cpu = time.process_time() - cpu0 + postgres_cpu() - pg0
    print(
        f"COPY floor: {rows} rows of {', '.join(names)} in {time.perf_counter() - wall0:.2f} s; "
        f"CPU {cpu * 1000 / n:.2f} ms per scored request (client + PostgreSQL)"
    )


STEPS = {
    "claim (lock, status → scoring)": ("portal/requests/services.py", "_claim_for_scoring"),
    "card fetch over HTTP (client)": ("scoring/sources.py", "_get"),
    "card parse + validate": ("scoring/sources.py", "validate_fetched"),
    "assessment build (engine, trace)": ("scoring/services.py", "assessment_build"),
    "state + audit + statistics (both)": ("portal/requests/lifecycle.py", "transition_many"),
    "  of which audit rows": ("portal/audit/services.py", "audit_record_many"),
    "  of which statistics rollup": ("portal/stats/services.py", "done"),
    "metrics (Redis)": ("portal/metrics.py", "_send"),
}


def print_steps(stats, steps: dict[str, tuple[str, str]], n: int, top: int = 0) -> None:
    """CPU per request of each step (cumulative time of ``func`` in ``path``), then the
    ``top`` functions by their own CPU."""
    width = max(len(label) for label in steps) + 2
    for label, (path, func) in steps.items():
        total = sum(
            ct
            for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
            if name == func and file.endswith(path)
        )
        print(f"  {label:{width}s} {total * 1000 / n:6.3f} ms")
    if top:
        print("  top functions by own CPU (ms per request):")
        heaviest = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
        for (file, line, name), (_cc, _nc, tt, _ct, _callers) in heaviest:
            short = "/".join(Path(file).parts[-2:])
            print(f"    {tt * 1000 / n:6.3f}  {name} ({short}:{line})")


def profile_in_process(n: int, school, user, guardian: str, today: dt.date) -> None:
    """Score ``n`` more requests in this process (the same task body the worker runs, the card
    fetched over HTTP from the simulator) under cProfile with a CPU-time clock; print the CPU
    per request of each step."""
    import cProfile
    import pstats

    from portal.requests import services, tasks
    from schools.identifiers import make_identifier
    from schools.scope import scope_for

    scope = scope_for(user)
    ids = []
    serial = 0
    while len(ids) < n:
        iin = make_identifier(f"130101{6}{serial:04d}"[:11])
        serial += 1
        if not iin:
            continue
        req = services.aid_request_submit(
            scope=scope, actor=user, enqueue=False,
            data={
                "student_iin": iin, "student_full_name": "Бенч Профиль", "grade": 5,
                "guardian_iin": guardian, "guardian_full_name": "Бенч Родитель",
                "guardian_phone": "+77010000000", "ground": "asp", "aid_kind": "uniform",
                "amount_kzt": 50851, "academic_year": "2026-2027",
                "consent_method": "egov_sms", "consent_reference": "bench",
                "consent_given_on": today - dt.timedelta(days=1),
                "consent_valid_until": today + dt.timedelta(days=30),
            },
        )  # fmt: skip
        ids.append(req.pk)
    tasks.aid_request_score.run(ids.pop())  # warm up (imports, first connection)
    prof = cProfile.Profile(time.process_time)
    cpu0 = time.process_time()
    prof.enable()
    for pk in ids:
        tasks.aid_request_score.run(pk)
    prof.disable()
    cpu = time.process_time() - cpu0
    stats = pstats.Stats(prof)
    print(f"profile: {len(ids)} scoring tasks in this process, {cpu * 1000 / len(ids):.1f} ms "
          f"CPU each (this process only; PostgreSQL and the simulator not counted)")  # fmt: skip
    print_steps(stats, STEPS, len(ids), top=12)


CHUNK_STEPS = {
    "claim (lock, queued → scoring, set-based)": ("portal/requests/services.py", "_claim_for_scoring"),
    "card fetch: one batch call (client)": ("scoring/sources.py", "_post_batch"),
    "card parse + validate": ("scoring/sources.py", "validate_fetched"),
    "assessment build (engine, trace)": ("scoring/services.py", "assessment_build"),
    "  of which the engine": ("scoring/engine.py", "assess"),
    "bulk inserts (assessments, scorings)": ("portal/requests/services.py", "effects"),
    "state UPDATE + audit + statistics": ("portal/requests/lifecycle.py", "transition_many"),
    "  of which audit rows": ("portal/audit/services.py", "audit_record_many"),
    "  of which statistics rollup": ("portal/stats/services.py", "done"),
    "metrics (Redis)": ("portal/metrics.py", "_send"),
}  # fmt: skip


def profile_chunks(n: int, user, guardian: str, today: dt.date) -> None:
    """Score ``n`` more requests in this process in chunks, through the batch task's body
    (cards over HTTP from the simulator's batch endpoint) under cProfile with a CPU clock;
    print the CPU per request of each step."""
    import cProfile
    import pstats

    from portal.requests import tasks
    from schools.identifiers import make_identifier

    iins, serial = [], 0
    while len(iins) < n + tasks.SCORING_CHUNK:
        iin = make_identifier(f"120101{6}{serial:04d}"[:11])
        serial += 1
        if iin:
            iins.append(iin)
    ids = backlog_create(user, iins, guardian, today)
    warm, ids = ids[: tasks.SCORING_CHUNK], ids[tasks.SCORING_CHUNK :]
    tasks.aid_requests_score_batch.run(warm)
    prof = cProfile.Profile(time.process_time)
    cpu0 = time.process_time()
    prof.enable()
    for start in range(0, len(ids), tasks.SCORING_CHUNK):
        tasks.aid_requests_score_batch.run(ids[start : start + tasks.SCORING_CHUNK])
    prof.disable()
    cpu = time.process_time() - cpu0
    stats = pstats.Stats(prof)
    print(f"profile: {len(ids)} requests in chunks of {tasks.SCORING_CHUNK} in this process, "
          f"{cpu * 1000 / len(ids):.2f} ms CPU each (under cProfile; PostgreSQL and the "
          "simulator not counted)")  # fmt: skip
    print_steps(stats, CHUNK_STEPS, len(ids), top=15)


def profile_submissions(n: int, token: str, guardian: str, today: dt.date) -> None:
    """``n`` API submissions through the whole middleware stack in this process (Django's test
    client, no network), CPU per submission and the heaviest steps."""
    import cProfile
    import json
    import pstats

    from django.test import Client
    from django.test.utils import override_settings

    from schools.identifiers import make_identifier

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    bodies = []
    serial = 0
    while len(bodies) < n + 1:
        iin = make_identifier(f"140101{5}{serial:04d}"[:11])
        serial += 1
        if iin:
            bodies.append(json.dumps({
                "student_iin": iin, "student_full_name": "Бенч Апи", "grade": 5,
                "guardian_iin": guardian, "guardian_full_name": "Бенч Родитель",
                "guardian_phone": "+77010000000", "ground": "asp", "aid_kind": "uniform",
                "amount_kzt": 50851, "academic_year": "2026-2027",
                "consent": {"method": "egov_sms", "reference": "bench",
                            "given_on": (today - dt.timedelta(days=1)).isoformat(),
                            "valid_until": (today + dt.timedelta(days=30)).isoformat()},
            }))  # fmt: skip
    with override_settings(ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost"]):
        post = lambda body: client.post(  # noqa: E731
            "/api/v1/aid-requests/", body, content_type="application/json"
        )
        first = post(bodies.pop())
        if first.status_code != 201:
            print(
                f"profile of submissions skipped: HTTP {first.status_code} {first.content[:200]!r}"
            )
            return
        plain, bodies = bodies[: len(bodies) // 2], bodies[len(bodies) // 2 :]
        pg0, cpu0 = postgres_cpu(), time.process_time()
        for body in plain:
            post(body)
        cpu, pg = time.process_time() - cpu0, postgres_cpu() - pg0
        print(f"API submissions in this process without a profiler: {cpu * 1000 / len(plain):.1f}"
              f" ms CPU each, PostgreSQL {pg * 1000 / len(plain):.1f} ms each")  # fmt: skip
        prof = cProfile.Profile(time.process_time)
        cpu0 = time.process_time()
        prof.enable()
        for body in bodies:
            post(body)
        prof.disable()
    cpu = time.process_time() - cpu0
    stats = pstats.Stats(prof)
    if os.environ.get("BENCH_PROFILE_DUMP"):
        stats.dump_stats(os.environ["BENCH_PROFILE_DUMP"])
    print(f"profile: {len(bodies)} API submissions in this process, {cpu * 1000 / len(bodies):.1f}"
          " ms CPU each (under cProfile; PostgreSQL not counted)")  # fmt: skip
    steps = {
        "token authentication": ("knox/auth.py", "authenticate"),
        "serializer validation": ("rest_framework/serializers.py", "is_valid"),
        "aid_request_submit (service)": ("portal/requests/services.py", "aid_request_submit"),
        "  of which full_clean": ("django/db/models/base.py", "full_clean"),
        "  of which audit": ("portal/audit/services.py", "audit_record"),
        "  of which statistics": ("portal/stats/services.py", "done"),
        "  of which enqueue (broker)": ("portal/requests/services.py", "_enqueue"),
        "response (detail serializer + view data)": ("portal/requests/api/views.py", "detail_response"),
    }  # fmt: skip
    print_steps(stats, steps, len(bodies))


def backlog_create(
    user, iins: list[str], guardian: str, today: dt.date, notices: bool = False
) -> list[int]:
    """The requests saved set-based (the class-list service, not enqueued); their ids. The
    guardians' SMS only with ``notices`` (``--notices``): else the scoring is timed alone."""
    from contextlib import nullcontext

    from portal.notices.services import notices_suppressed
    from portal.requests.batch import aid_requests_submit_batch
    from schools.scope import scope_for

    scope = scope_for(user)
    ids: list[int] = []
    t0 = time.perf_counter()
    for start in range(0, len(iins), 2000):
        rows = [
            (k + 2, {
                "student_iin": iin, "student_full_name": "Бенч Учащийся", "grade": 5,
                "guardian_iin": guardian, "guardian_full_name": "Бенч Родитель",
                "guardian_phone": "+77010000000", "ground": "asp", "aid_kind": "uniform",
                "amount_kzt": 50851, "academic_year": "2026-2027",
                "consent_method": "egov_sms", "consent_reference": "bench",
                "consent_given_on": today - dt.timedelta(days=1),
                "consent_valid_until": today + dt.timedelta(days=30),
            })
            for k, iin in enumerate(iins[start : start + 2000])
        ]  # fmt: skip
        with nullcontext() if notices else notices_suppressed():
            result = aid_requests_submit_batch(
                scope=scope, actor=user, rows=rows, via="bench", enqueue=False
            )
        if result.errors:
            raise SystemExit(f"backlog rows rejected: {result.errors[:3]}")
        ids += [req.pk for req in result.created]
    print(f"backlog: {len(ids)} requests saved set-based in {time.perf_counter() - t0:.1f} s")
    return ids


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--submitters", type=int, default=20)
    ap.add_argument("--latency-ms", type=int, default=100)
    ap.add_argument("--worker-threads", type=int, default=16)
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Celery worker processes on the scoring queue (scale-out); the first also "
        "serves the sweeper's queue",
    )
    ap.add_argument("--pool", default="prefork", choices=["prefork", "threads"])
    ap.add_argument(
        "--notices",
        action="store_true",
        help="with --backlog: the guardians' SMS too (delivered by the worker to the simulator)",
    )
    ap.add_argument(
        "--single",
        action="store_true",
        help="with --backlog: one aid_request_score message per request instead of chunks",
    )
    ap.add_argument(
        "--backlog",
        action="store_true",
        help="no API submitters: save the requests set-based first (as class lists), then "
        "send them to the workers in chunks and time the scoring alone (sustained scored/s)",
    )
    ap.add_argument(
        "--warmup",
        type=int,
        default=60,
        help="submissions before the measured run (start-up and first connections excluded)",
    )
    ap.add_argument("--web-workers", type=int, default=3, help="gunicorn workers of the API")
    ap.add_argument(
        "--web-threads", type=int, default=4, help="threads per API worker (as make demo)"
    )
    ap.add_argument("--web-nice", type=int, default=10, help="CPU niceness of the API server")
    ap.add_argument(
        "--spy-api",
        metavar="FILE",
        help="sample the API server's processes with py-spy during the run (raw stacks to FILE)",
    )
    ap.add_argument(
        "--profile",
        type=int,
        default=100,
        help="then score this many more requests in this process under cProfile (0: skip)",
    )
    ap.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered load in requests/s over all submitters (0: as fast as they can)",
    )
    args = ap.parse_args()

    base_url = os.environ["DATABASE_URL"]
    bench_db = (urlparse(base_url).path.lstrip("/") or "komek") + "_bench"
    port = free_port()
    sim_port = free_port()
    queue = f"komek-bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": with_db(base_url, bench_db),
        "KOMEK_TESTING": "1",
        "FAMILY_CARD_SIM_ENABLED": "1",
        "FAMILY_CARD_SIM_ALLOW_PRODUCTION": "1",
        "FAMILY_CARD_SIM_SECRET": os.environ.get("FAMILY_CARD_SIM_SECRET")
        or secrets.token_urlsafe(32),
        "CELERY_QUEUE": queue,
        # The guardian's "request received" SMS goes to the SMS gateway simulator, served
        # like the card simulator by a server of its own (the gateway is an outside service:
        # its receipts are not the API server's CPU, and a busy API does not slow deliveries).
        "SMS_SIM_ENABLED": "1",
        "SMS_GATEWAY_URL": f"http://127.0.0.1:{sim_port}/sms-sim",
        "SMS_SIM_ALLOW_PRODUCTION": "1",
        "FAMILY_CARD_URL": f"http://127.0.0.1:{sim_port}/familycard-sim",
        "FAMILY_CARD_SIM_REDIS_PREFIX": f"komek:bench:{queue}:sim:",
        "FAMILY_CARD_SIM_LATENCY_MS": str(args.latency_ms),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    env["SMS_SIM_SECRET"] = env["FAMILY_CARD_SIM_SECRET"]
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

    recreate_database(base_url, bench_db)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from portal.accounts.services import api_token_issue
    from portal.requests.models import AidRequest, AidRequestScoring, Status
    from schools.identifiers import make_identifier
    from schools.models import District, Role, School
    from schools.services import geography_ensure, staff_member_create

    geography_ensure()
    district = District.objects.get(code="KAR-KAZ")
    n = 0
    while not (bin_ := make_identifier(f"99014{n:06d}")):
        n += 1
    school = School.objects.create(district=district, bin=bin_, name_ru="Бенч", name_kk="Бенч")
    user = staff_member_create(
        username="bench_pedagogue", full_name="Бенч", email="bench@example.kz",
        role=Role.PEDAGOGUE, unit_kwargs={"school": school}, password="Bench-Password-42",  # noqa: S106
    ).user  # fmt: skip
    from schools.demo import demo_totp_secret, enroll_mfa

    enroll_mfa(user, demo_totp_secret("bench_pedagogue"))  # tokens need TOTP
    token = api_token_issue(actor=user, name="bench", via="bench")[1]

    # On one 2-core machine the web, the card service and the worker share the CPU. In
    # production they run on separate machines; here the API server runs at a lower CPU
    # priority (nice), so scoring keeps pace with submissions instead of queueing behind them,
    # and the card simulator is a separate server process, as the real service would be.
    pg_before = postgres_cpu()
    procs = [
        subprocess.Popen(  # noqa: S603
            ["nice", "-n", str(args.web_nice), sys.executable, "-m", "gunicorn", "portal.wsgi",
             "-b", f"127.0.0.1:{port}", "-w", str(args.web_workers), "--threads",
             str(args.web_threads), "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        ),
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{sim_port}",
             "-w", "2", "--threads", "8", "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        ),
        *[
            subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", args.pool,
                 "-c", str(args.worker_threads), "-n", f"bench{k}@%h",
                 "-Q", f"{queue},{queue}-sweeper" if k == 0 else queue,
                 "--without-heartbeat", "--without-gossip", "--without-mingle",
                 "--loglevel", "WARNING"],
                cwd=ROOT, env=env, start_new_session=True,
            )
            for k in range(args.workers)
        ],
    ]  # fmt: skip
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        birth = dt.date(2012, 1, 1)
        iins: list[str] = []
        serial = 0
        while len(iins) < args.requests + args.warmup:
            day = birth + dt.timedelta(days=serial // 50)
            iin = make_identifier(f"{day:%y%m%d}5{serial % 10000:04d}")
            serial += 1
            if iin:
                iins.append(iin)
        guardian = next(i for i in (make_identifier(f"850304600{k:02d}") for k in range(99)) if i)
        today = dt.date.today()
        errors: list[int] = []
        lock = threading.Lock()
        work = iins[args.warmup :]
        warm = iins[: args.warmup]

        def submitter(work: list[str] = work, paced: bool = True) -> None:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Token {token}"},
                timeout=30,
            ) as client:
                interval = args.submitters / args.rate if args.rate > 0 and paced else 0.0
                next_at = time.perf_counter() + random.uniform(0, interval)
                while True:
                    with lock:
                        if not work:
                            return
                        iin = work.pop()
                    if interval:
                        time.sleep(max(0.0, next_at - time.perf_counter()))
                        next_at += interval
                    r = client.post(
                        "/api/v1/aid-requests/",
                        json={
                            "student_iin": iin, "student_full_name": "Бенч Учащийся",
                            "grade": 5, "guardian_iin": guardian,
                            "guardian_full_name": "Бенч Родитель",
                            "guardian_phone": "+77010000000", "ground": "asp",
                            "aid_kind": "uniform", "amount_kzt": 50851,
                            "academic_year": "2026-2027",
                            "consent": {
                                "method": "egov_sms", "reference": "bench",
                                "given_on": (today - dt.timedelta(days=1)).isoformat(),
                                "valid_until": (today + dt.timedelta(days=30)).isoformat(),
                            },
                        },
                    )  # fmt: skip
                    if r.status_code != 201:
                        with lock:
                            errors.append(r.status_code)

        if warm and not args.backlog:
            # Every process boots, imports and opens its connections on its first requests:
            # that start-up is not a submission's cost. Warm up, then measure from here.
            warmers = [threading.Thread(target=submitter, args=(warm, False)) for _ in range(6)]
            for t in warmers:
                t.start()
            for t in warmers:
                t.join()
            while AidRequest.objects.filter(status__in=[Status.QUEUED, Status.SCORING]).exists():
                time.sleep(0.1)
            errors.clear()
        measured_from = dt.datetime.now(dt.UTC)
        if args.backlog:
            ids = backlog_create(user, iins, guardian, today, notices=args.notices)
            base_cpu = cpu_used(procs, pg_before)
            from portal.requests.tasks import enqueue_scoring

            started = time.perf_counter()
            if args.single:
                from portal.requests.tasks import aid_request_score

                for pk in ids:
                    aid_request_score.delay(pk)
            else:
                enqueue_scoring(ids)
        else:
            base_cpu = cpu_used(procs, pg_before)
            spy = None
            if args.spy_api:  # py-spy (requirements-dev.txt) on the API server's processes
                spy = subprocess.Popen(  # noqa: S603
                    [str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
                     str(procs[0].pid), "--subprocesses", "--gil", "--nonblocking", "-r", "200",
                     "-f", "raw", "-o", args.spy_api],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                time.sleep(1.0)
            client_cpu0 = time.process_time()
            started = time.perf_counter()
            threads = [threading.Thread(target=submitter) for _ in range(args.submitters)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
        submitted_in = time.perf_counter() - started
        total = args.requests - len(errors)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            active = AidRequest.objects.filter(status__in=[Status.QUEUED, Status.SCORING]).count()
            if active == 0:
                break
            time.sleep(0.2)
        scored_in = time.perf_counter() - started
        rows = AidRequestScoring.objects.select_related("request").filter(
            request__created_at__gte=measured_from
        )
        lat = sorted((r.created_at - r.request.created_at).total_seconds() for r in rows)
        other = (
            AidRequest.objects.filter(created_at__gte=measured_from)
            .exclude(status=Status.SCORED)
            .count()
        )
        print(f"requests: {args.requests}, submitters: {args.submitters}, "
              f"simulator latency: {args.latency_ms} ms, workers: {args.workers} × {args.pool} × {args.worker_threads}, "
              f"API server nice {args.web_nice}, offered load: "
              f"{'a backlog saved first, sent in chunks' if args.backlog else f'{args.rate:g} requests/s' if args.rate else 'unpaced'}")  # fmt: skip
        print(f"submit errors: {len(errors)}; not scored: {other}")
        print(f"submitted/s: {total / submitted_in:.1f}")
        print(f"scored/s:    {len(lat) / scored_in:.1f}")
        if lat and not args.backlog:  # a backlog waits by design: no latency to report
            p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
            print(f"submit→scored p50: {statistics.median(lat) * 1000:.0f} ms, "
                  f"p95: {p95 * 1000:.0f} ms")  # fmt: skip
        used = cpu_used(procs, pg_before)
        if base_cpu is not None:  # the measured phase only (no start-up, no backlog saving)
            used = [(n, sec - b) for (n, sec), (_n, b) in zip(used, base_cpu, strict=True)]
        print("CPU seconds used — " + ", ".join(f"{name}: {sec:.1f}" for name, sec in used))
        if not args.backlog and lat:
            client = time.process_time() - client_cpu0
            print(f"  load generator (this process, not counted below): "
                  f"{client * 1000 / len(lat):.1f} ms per request")  # fmt: skip
        if lat:
            per = ", ".join(f"{name}: {sec * 1000 / len(lat):.1f}" for name, sec in used)
            total_ms = sum(sec for _name, sec in used) * 1000 / len(lat)
            print(f"CPU ms per scored request — {per}; all: {total_ms:.1f}")
            print(f"  (2 cores → at most {2000 / total_ms:.0f} scored/s if nothing else ran)")
        copy_floor(len(lat))
        if args.profile and args.backlog:
            profile_chunks(args.profile, user, guardian, today)
        elif args.profile:
            profile_in_process(args.profile, school, user, guardian, today)
            profile_submissions(args.profile, token, guardian, today)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        from django.db import connection

        connection.close()


if __name__ == "__main__":
    main()
