"""Dashboards at national scale: the rollup against a GROUP BY over the requests.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/komek .venv/bin/python bench/stats.py \
        [--regions 20] [--schools 7500] [--requests 1000000] [--runs 30] [--keep]

Creates a scratch database next to DATABASE_URL's (loopback or unix socket only), migrates it,
bulk-loads (COPY) a national dataset — regions, districts, schools, requests with assessments
and decisions — builds the rollup with ``stats_rebuild()``, then times

* the region and national dashboards as the portal computes them (``stats_dashboard``: one
  GROUPING SETS query over the rollup, plus names of the drill-down units), and
* the same figures by GROUP BY over the requests joined to their latest assessment and decision,
* the small-cell suppression lattice of the whole country computed afresh (what the first
  dashboard view after a change of the rollup pays; later views read it from the cache),

and prints p50/p95 and the ratio, all measured in this run. Drops the scratch database at the
end (``--keep`` keeps it). Synthetic data only: no ИИН of a person, no names.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOOPBACK = {"127.0.0.1", "localhost", "::1", ""}
KINDS = (("uniform", 35), ("supplies", 30), ("sports_uniform", 8), ("meals", 20), ("other", 7))
GROUNDS = (
    ("asp", 30), ("below_subsistence", 40), ("orphan", 5), ("emergency", 3),
    ("board_decision", 22),
)  # fmt: skip
CATS = ((1, 14), (2, 30), (3, 30), (4, 15), (5, 10), (6, 1))
# Submission months of two academic years, weighted to the start of the school year.
MONTHS = (
    ("2025-2026", "2025-08", 12), ("2025-2026", "2025-09", 25), ("2025-2026", "2025-10", 12),
    ("2025-2026", "2025-11", 5), ("2025-2026", "2025-12", 3), ("2025-2026", "2026-01", 4),
    ("2025-2026", "2026-02", 3), ("2025-2026", "2026-03", 2), ("2025-2026", "2026-04", 2),
    ("2026-2027", "2026-08", 12), ("2026-2027", "2026-09", 15), ("2026-2027", "2026-10", 5),
)  # fmt: skip


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def scratch_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    host = parts.hostname or ""
    if host not in LOOPBACK and not host.startswith("%2F") and not host.startswith("/"):
        raise SystemExit(f"refusing a non-local database host: {host!r}")
    return urlunsplit(parts._replace(path="/" + name))


def picker(rng: random.Random, table: tuple) -> list:
    values = [t[:-1] if len(t) > 2 else t[0] for t in table]
    weights = [t[-1] for t in table]
    return rng.choices(values, weights=weights, k=1 << 16)


def copy_rows(cur, table: str, columns: str, lines) -> None:  # noqa: ANN001
    buf = io.StringIO()
    n = 0
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for line in lines:
            buf.write(line)
            n += 1
            if n % 50_000 == 0:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())


def load(conn, args) -> dict:  # noqa: ANN001
    """COPY the national dataset. Returns {region_code: region_id}."""
    rng = random.Random(2026)
    cur = conn.cursor()
    t = time.monotonic()
    cur.execute("SELECT id FROM auth_user ORDER BY id LIMIT 1")
    cur.execute(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
        "is_staff, is_active, date_joined) VALUES ('!', false, 'bench', '', '', '', false, true, "
        "now()) RETURNING id"
    )
    user_id = cur.fetchone()[0]
    cur.execute("SELECT id FROM scoring_ruleset WHERE version = 'KZ-2026.1'")
    ruleset_id = cur.fetchone()[0]
    regions, districts, schools = [], [], []
    per_region = args.schools // args.regions
    per_district = 25
    sid = did = 0
    for r in range(1, args.regions + 1):
        code = f"R{r:02d}"
        regions.append((r, code))
        n_d = max(1, per_region // per_district)
        for k in range(n_d):
            did += 1
            districts.append((did, r, f"{code}-{k:03d}"))
            count = per_district if k < n_d - 1 else per_region - per_district * (n_d - 1)
            for _ in range(count):
                sid += 1
                schools.append((sid, did))
    copy_rows(cur, "schools_region", "id, code, name_ru, name_kk, name_en",
              (f"{i}\t{c}\tРегион {c}\t{c}\t{c}\n" for i, c in regions))  # fmt: skip
    copy_rows(cur, "schools_district", "id, region_id, code, kind, name_ru, name_kk, name_en",
              (f"{i}\t{r}\t{c}\tdistrict\tРайон {c}\t{c}\t{c}\n" for i, r, c in districts))  # fmt: skip
    copy_rows(
        cur,
        "schools_school",
        "id, public_id, district_id, bin, name_ru, name_kk, number, kind, language, connected, "
        "student_count",
        (f"{i}\t{uuid.uuid4()}\t{d}\t{i:012d}\tШкола {i}\t{i}\t{i % 200 + 1}\tschool\tmixed\t"
         f"t\t800\n" for i, d in schools),
    )  # fmt: skip
    kinds, grounds, cats, months = (picker(rng, x) for x in (KINDS, GROUNDS, CATS, MONTHS))
    n = args.requests
    rows = []
    for i in range(1, n + 1):
        h = rng.getrandbits(64)
        school = schools[h % len(schools)][0]
        year, month = months[(h >> 16) & 0xFFFF]
        day = 1 + (h >> 32) % 28
        created = f"{month}-{day:02d} {(h >> 40) % 10 + 8:02d}:{(h >> 48) % 60:02d}:00+05"
        roll = ((h >> 56) & 0xFF) / 256
        scored = roll < 0.94
        category = cats[(h >> 8) & 0xFFFF] if scored else 0
        if not scored:
            status = "queued" if roll < 0.955 else "needs_review" if roll < 0.985 else "withdrawn"
        elif category == 6 or roll < 0.35:
            status = "scored"
        else:
            status = "decided"
        outcome = ""
        if status == "decided":
            outcome = "reject" if category >= 5 and roll < 0.8 else "approve"
        amount = 50851 if kinds[i & 0xFFFF] in ("uniform", "supplies") else 25000
        delay = 1 + int(rng.expovariate(1 / 12)) % 59  # seconds from submission to score
        rows.append((i, school, year, created, status, category, outcome, amount, delay,
                     kinds[i & 0xFFFF], grounds[(h >> 24) & 0xFFFF]))  # fmt: skip
    print(f"generated {n:,} requests in {time.monotonic() - t:.1f} s", flush=True)
    t = time.monotonic()
    copy_rows(
        cur,
        "portal_aidrequest",
        "id, public_id, school_id, created_by_id, student_iin, student_full_name, grade, "
        "guardian_iin, guardian_full_name, guardian_phone, ground, aid_kind, amount_kzt, "
        "academic_year, comment, consent_method, consent_reference, consent_given_on, "
        "consent_valid_until, status, status_reason, status_changed_at, attempt, created_at, "
        "updated_at",
        (f"{i}\t{uuid.uuid4()}\t{s}\t{user_id}\t{i:012d}\t-\t5\t{i:012d}\t-\t+77000000000\t"
         f"{g}\t{k}\t{a}\t{y}\t\tegov_sms\tB\t2025-08-01\t2027-08-31\t{st}\t\t{c}\t1\t{c}\t{c}\n"
         for i, s, y, c, st, _cat, _o, a, _d, k, g in rows),
    )  # fmt: skip
    sha = "0" * 64
    copy_rows(
        cur,
        "scoring_assessment",
        "id, public_id, card, card_sha256, ruleset_id, ruleset_version, category, high_welfare, "
        "markers, trace, created_at",
        (f"{i}\t{uuid.uuid4()}\t{{}}\t{sha}\t{ruleset_id}\tKZ-2026.1\t{cat}\t"
         f"{'t' if cat == 6 else 'f'}\t[]\t{{}}\t{c}\n"
         for i, _s, _y, c, _st, cat, _o, _a, _d, _k, _g in rows if cat),
    )  # fmt: skip
    copy_rows(
        cur,
        "portal_aidrequestscoring",
        "id, request_id, attempt, assessment_id, created_at",
        (f"{i}\t{i}\t1\t{i}\t{c[:-5]}{d:02d}+05\n"  # scored `d` seconds after submission
         for i, _s, _y, c, _st, cat, _o, _a, d, _k, _g in rows if cat),
    )  # fmt: skip
    copy_rows(
        cur,
        "portal_decision",
        "public_id, request_id, assessment_id, outcome, amount_kzt, recommendation, "
        "against_recommendation, reason, decided_by_id, created_at",
        (f"{uuid.uuid4()}\t{i}\t{i}\t{o}\t{a if o == 'approve' else chr(92) + 'N'}\t\t"
         f"{'t' if (o == 'approve' and cat >= 5) else 'f'}\t"
         f"{'обосновано' if (o == 'approve' and cat >= 5) else ''}\t{user_id}\t{c}\n"
         for i, _s, _y, c, st, cat, o, a, _d, _k, _g in rows if st == "decided"),
    )  # fmt: skip
    for table in ("schools_region", "schools_district", "schools_school", "portal_aidrequest",
                  "scoring_assessment", "portal_aidrequestscoring"):  # fmt: skip
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {table}))"
        )
    conn.commit()
    print(f"COPY of {n:,} requests (+ assessments, decisions) in {time.monotonic() - t:.1f} s")
    return {code: i for i, code in regions}


RAW_SQL = """
WITH r AS (
    SELECT r.id, r.school_id, s.district_id, d.region_id,
           date_trunc('month', r.created_at AT TIME ZONE 'Asia/Almaty')::date AS month,
           r.status, r.amount_kzt, r.created_at,
           COALESCE(l.category, 0) AS category, f.created_at AS first_scored,
           CASE WHEN r.status = 'decided' THEN ld.outcome ELSE '' END AS outcome,
           CASE WHEN r.status = 'decided' AND ld.outcome = 'approve' THEN ld.amount_kzt
                ELSE 0 END AS approved,
           (r.status = 'decided' AND ld.against_recommendation) AS against
      FROM portal_aidrequest r
      JOIN schools_school s ON s.id = r.school_id
      JOIN schools_district d ON d.id = s.district_id
      LEFT JOIN LATERAL (SELECT a.category FROM portal_aidrequestscoring sc
                           JOIN scoring_assessment a ON a.id = sc.assessment_id
                          WHERE sc.request_id = r.id ORDER BY sc.attempt DESC LIMIT 1) l ON true
      LEFT JOIN LATERAL (SELECT sc.created_at FROM portal_aidrequestscoring sc
                          WHERE sc.request_id = r.id ORDER BY sc.attempt LIMIT 1) f ON true
      LEFT JOIN LATERAL (SELECT dd.outcome, dd.amount_kzt, dd.against_recommendation
                           FROM portal_decision dd WHERE dd.request_id = r.id
                          ORDER BY dd.id DESC LIMIT 1) ld ON true
     WHERE {where}
)
SELECT GROUPING(category), GROUPING(month), GROUPING({child}), category, month, {child},
       count(*), count(*) FILTER (WHERE category > 0), count(*) FILTER (WHERE category = 6),
       count(*) FILTER (WHERE status IN ('queued', 'scoring')),
       count(*) FILTER (WHERE status = 'needs_review'),
       count(*) FILTER (WHERE status = 'withdrawn'),
       count(*) FILTER (WHERE outcome = 'approve'), count(*) FILTER (WHERE outcome = 'reject'),
       count(*) FILTER (WHERE against), sum(amount_kzt), sum(approved),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_scored - created_at))
  FROM r GROUP BY GROUPING SETS ((), (category), (month), ({child}))
"""


def timed(fn, runs: int, warmup: int = 2) -> list[float]:  # noqa: ANN001
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--regions", type=int, default=20)
    parser.add_argument("--schools", type=int, default=7500)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--raw-runs", type=int, default=10)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/komek"
    name = f"komek_bench_stats_{os.getpid()}"
    url = scratch_url(base, name)
    import psycopg

    admin_url = scratch_url(base, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    print(f"scratch database {name}", flush=True)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")  # never used
    os.environ.setdefault("KOMEK_TESTING", "1")  # settings without a SECRET_KEY
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        t = time.monotonic()
        call_command("migrate", verbosity=0)
        print(f"migrated in {time.monotonic() - t:.1f} s", flush=True)
        with psycopg.connect(url) as conn:
            region_ids = load(conn, args)
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
        from portal.stats.selectors import StatsFilters, Unit, stats_dashboard
        from portal.stats.services import stats_rebuild
        from schools.scope import Scope

        t = time.monotonic()
        rows = stats_rebuild()
        print(f"rollup rebuilt: {rows:,} rows in {time.monotonic() - t:.1f} s", flush=True)
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE portal_statsbucket")
        scope = Scope(user_id=None, role=None, level="national", is_superuser=True)
        rid = region_ids["R07"]
        region = Unit("region", "R07", "R07", rid)
        national = Unit("national", "", "—", None)
        flt = StatsFilters()

        def raw(where: str, child: str, params: list) -> None:
            with connection.cursor() as cur:
                cur.execute(RAW_SQL.format(where=where, child=child), params)
                cur.fetchall()

        def check(unit: Unit, where: str, child: str, params: list) -> None:
            fig = stats_dashboard(scope=scope, unit=unit, filters=flt)["totals"]
            with connection.cursor() as cur:
                cur.execute(RAW_SQL.format(where=where, child=child), params)
                total = next(r for r in cur.fetchall() if r[0] and r[1] and r[2])
            assert (fig["requests"], fig["scored"], fig["high_welfare"], fig["approved"]) == (
                total[6], total[7], total[8], total[12],
            ), (fig, total)  # fmt: skip

        check(region, "d.region_id = %s", "district_id", [rid])
        print("rollup and raw query agree on the region's figures", flush=True)
        results = {}
        for label, unit, where, child, params, raw_runs in (
            ("region", region, "d.region_id = %s", "district_id", [rid], args.raw_runs * 2),
            ("national", national, "true", "region_id", [], args.raw_runs),
        ):
            fast = timed(
                lambda u=unit: stats_dashboard(scope=scope, unit=u, filters=flt), args.runs
            )
            slow = timed(lambda w=where, c=child, p=params: raw(w, c, p), raw_runs, warmup=1)
            results[label] = (fast, slow)
            print(
                f"{label:>8} dashboard: rollup p50 {pct(fast, 0.5):7.1f} ms  p95 "
                f"{pct(fast, 0.95):7.1f} ms | GROUP BY over requests p50 {pct(slow, 0.5):8.1f} ms"
                f"  p95 {pct(slow, 0.95):8.1f} ms | ratio (p50) {pct(slow, 0.5) / pct(fast, 0.5):6.1f}x",
                flush=True,
            )
        from portal.stats.selectors import stats_tree

        cold = timed(lambda: stats_tree(filters=flt, use_cache=False), max(3, args.runs // 5))
        tree = stats_tree(filters=flt, use_cache=False)
        print(
            f"suppression lattice (every unit of the country, computed, not cached): p50 "
            f"{pct(cold, 0.5):7.1f} ms  p95 {pct(cold, 0.95):7.1f} ms | "
            f"{len(tree.lattice.values):,} cells, "
            f"{len(tree.hidden - tree.lattice.unshown):,} hidden",
            flush=True,
        )
        f, s = results["region"]
        ok = pct(f, 0.95) < 100 and pct(s, 0.5) / pct(f, 0.5) >= 20
        print(f"target (region p95 < 100 ms and >= 20x): {'met' if ok else 'NOT met'}")
        print(f"(median of {args.runs} rollup runs, {statistics.mean(f):.1f} ms mean)")
        connection.close()
        return 0
    finally:
        if not args.keep:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001, S110 - settings may have failed to load
                pass
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"dropped {name}")


if __name__ == "__main__":
    sys.exit(main())
