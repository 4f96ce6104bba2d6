"""Time of an impact preview (shadow scoring) over 100,000 and 1,000,000 stored assessments.

    .venv/bin/python bench/shadow.py [--sizes 100000 1000000] [--pool 5000] [--workers 2]

Creates a scratch database (``komek_shadow_bench_<pid>``) on the local PostgreSQL server of
``DATABASE_URL`` (127.0.0.1, localhost or a unix socket only), migrates it, bulk-loads
assessments with COPY (every second one linked to an aid request of one of 60 schools in two
regions), runs :func:`portal.rules.impact.impact_compute` with a changed draft and prints the
times. The scratch database is dropped at the end, also on errors. Cards are synthetic (a pool
of ``--pool`` distinct valid cards, cycled); the preview does not deduplicate, so every row is
parsed and scored. Prints only counts and times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import io
import json
import os
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def _scratch_url(base: str, name: str) -> str:
    u = urlparse(base)
    if u.scheme not in ("postgres", "postgresql"):
        sys.exit("DATABASE_URL must be postgres://")
    host = u.hostname or ""
    if host not in LOCAL_HOSTS and not host.startswith("/") and "%2F" not in (u.netloc or ""):
        sys.exit(f"refusing to create a scratch database on a non-local server ({host})")
    return urlunparse(u._replace(path=f"/{name}"))


def _admin_conn(url: str):  # noqa: ANN202
    import psycopg

    u = urlparse(url)
    return psycopg.connect(
        dbname="postgres",
        user=u.username or None,
        password=u.password or None,
        host=u.hostname or None,
        port=u.port or None,
        autocommit=True,
    )


def _copy_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _load_bench_scoring():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("bench_scoring", ROOT / "bench" / "scoring.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _setup_world() -> tuple[list[int], int]:
    from django.contrib.auth import get_user_model

    from schools.identifiers import make_identifier
    from schools.models import District, School
    from schools.services import geography_ensure

    geography_ensure()
    districts = list(District.objects.filter(region__code__in=["KAR", "SHY"]).order_by("code"))
    schools = []
    seed = 1
    for n in range(60):
        while True:
            bin_ = make_identifier(f"{990140:06d}{seed:05d}")
            seed += 1
            if bin_:
                break
        s = School(
            district=districts[n % len(districts)],
            bin=bin_,
            name_ru=f"Школа №{n + 1}",
            name_kk=f"№{n + 1} мектеп",
            number=n + 1,
        )
        s.save()
        schools.append(s.pk)
    user = get_user_model().objects.create_user("bench", "bench@example.invalid", None)
    return schools, user.pk


def _pool(size: int) -> list[tuple[str, str, int, bool, str]]:
    from scoring.card import canonical_json, parse_card
    from scoring.engine import assess
    from scoring.ruleset import load_default_ruleset

    bench = _load_bench_scoring()
    import random

    rng = random.Random(2026)
    rs = load_default_ruleset()
    out = []
    for i in range(size):
        doc = bench.make_card(rng, i)
        card = parse_card(doc)
        a = assess(card, rs)
        text = canonical_json(doc).decode("utf-8")
        out.append(
            (
                _copy_text(text),
                card.sha256(),
                a.category,
                a.high_welfare,
                json.dumps(list(a.markers)),
            )
        )
    return out


def _aid_request_template(school_id: int, user_id: int) -> tuple[list[str], list[str]]:
    """Columns and text values of one aid request row (filled from the model's defaults)."""
    from django.utils import timezone

    from portal.requests.models import AidRequest

    today = timezone.localdate()
    req = AidRequest(
        school_id=school_id,
        created_by_id=user_id,
        student_iin="000000000000",
        student_full_name="Бенч",
        grade=5,
        guardian_iin="000000000000",
        guardian_full_name="Бенч",
        guardian_phone="+77010000000",
        ground="below_subsistence",
        aid_kind="uniform",
        amount_kzt=1000,
        academic_year="2026-2027",
        consent_method="egov_sms",
        consent_reference="BENCH",
        consent_given_on=today,
        consent_valid_until=today,
        status="scored",
    )
    now = timezone.now()
    cols, vals = [], []
    for f in AidRequest._meta.concrete_fields:
        value = getattr(req, f.attname)
        if f.attname in ("created_at", "updated_at") and value is None:
            value = now
        if value is None:
            text = "\\N"
        elif isinstance(value, bool):
            text = "t" if value else "f"
        elif isinstance(value, (dt.date, dt.datetime)):
            text = value.isoformat()
        elif isinstance(value, (dict, list)):
            text = _copy_text(json.dumps(value))
        else:
            text = _copy_text(str(value))
        cols.append(f.column)
        vals.append(text)
    return cols, vals


def _load(raw, start: int, count: int, pool, schools, user_id, ruleset_id, version) -> None:  # noqa: ANN001
    """COPY assessments start..start+count-1 (ids start+1…), every second with a request."""
    now = dt.datetime.now(dt.UTC)
    cols, template = _aid_request_template(schools[0], user_id)
    i_pub, i_school, i_iin = (
        cols.index("public_id"),
        cols.index("school_id"),
        cols.index("student_iin"),
    )
    i_id = cols.index("id") if "id" in cols else None
    with raw.cursor() as cur:
        chunk = 50_000
        for base in range(start, start + count, chunk):
            n = min(chunk, start + count - base)
            a_buf, r_buf, s_buf = io.StringIO(), io.StringIO(), io.StringIO()
            for k in range(base, base + n):
                aid = k + 1
                card, sha, cat, hw, markers = pool[k % len(pool)]
                created = (now - dt.timedelta(minutes=(k * 7919) % (300 * 24 * 60))).isoformat()
                a_buf.write(
                    f"{aid}\t{uuid.uuid4()}\t{card}\t{sha}\t{ruleset_id}\t{version}\t{cat}\t"
                    f"{'t' if hw else 'f'}\t{markers}\t{{}}\t{created}\n"
                )
                if k % 2 == 0:
                    row = list(template)
                    if i_id is not None:
                        row[i_id] = str(aid)
                    row[i_pub] = str(uuid.uuid4())
                    row[i_school] = str(schools[(k // 2) % len(schools)])
                    row[i_iin] = f"{k:012d}"
                    r_buf.write("\t".join(row) + "\n")
                    s_buf.write(f"{aid}\t1\t{aid}\t{created}\n")
            with cur.copy(
                "COPY scoring_assessment (id, public_id, card, card_sha256, ruleset_id, "
                "ruleset_version, category, high_welfare, markers, trace, created_at) FROM STDIN"
            ) as copy:
                copy.write(a_buf.getvalue())
            with cur.copy(f"COPY portal_aidrequest ({', '.join(cols)}) FROM STDIN") as copy:
                copy.write(r_buf.getvalue())
            with cur.copy(
                "COPY portal_aidrequestscoring (request_id, attempt, assessment_id, created_at) "
                "FROM STDIN"
            ) as copy:
                copy.write(s_buf.getvalue())
        raw.commit()
        cur.execute("ANALYZE scoring_assessment")
        cur.execute("ANALYZE portal_aidrequest")
        cur.execute("ANALYZE portal_aidrequestscoring")
        raw.commit()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--pool", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    base = os.environ.get("DATABASE_URL", "")
    if not base:
        sys.exit("set DATABASE_URL=postgres://…@127.0.0.1/… (local server only)")
    name = f"komek_shadow_bench_{os.getpid()}"
    url = _scratch_url(base, name)
    with _admin_conn(base) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    print(f"scratch database {name} created")
    try:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated in {time.perf_counter() - t:.1f} s")
        from portal.rules.impact import impact_compute
        from scoring.models import RuleSet

        schools, user_id = _setup_world()
        t = time.perf_counter()
        pool = _pool(args.pool)
        print(f"{len(pool)} distinct synthetic cards generated in {time.perf_counter() - t:.1f} s")
        ruleset = RuleSet.objects.get(version="KZ-2026.1")
        draft = json.loads(json.dumps(ruleset.document))
        draft["version"] = "BENCH-DRAFT"
        draft["high_welfare"]["markers"][0]["value"] = "3"
        draft["bands"][1]["income_ratio_below"] = "1.1"
        today = dt.date.today()
        loaded = 0
        for size in sorted(args.sizes):
            connection.ensure_connection()
            t = time.perf_counter()
            _load(
                connection.connection,
                loaded,
                size - loaded,
                pool,
                schools,
                user_id,
                ruleset.pk,
                ruleset.version,
            )
            print(
                f"loaded {size - loaded:,} assessments with COPY in {time.perf_counter() - t:.1f} s"
            )
            loaded = size
            for workers in sorted({1, args.workers}) if size <= 100_000 else [args.workers]:
                connection.close()
                t = time.perf_counter()
                result = impact_compute(
                    document=draft,
                    period_from=today - dt.timedelta(days=365),
                    period_to=today,
                    workers=workers,
                )
                seconds = time.perf_counter() - t
                print(
                    f"impact preview over {result['total']:,} assessments, {workers} process(es): "
                    f"{seconds:.1f} s ({result['total'] / seconds:,.0f}/s); changed "
                    f"{result['changed']:,}, high welfare +{result['hw_appear']:,} "
                    f"−{result['hw_disappear']:,}, errors {result['errors']:,}, "
                    f"{len(result['schools'])} schools"
                )
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        with _admin_conn(base) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"scratch database {name} dropped")


if __name__ == "__main__":
    main()
