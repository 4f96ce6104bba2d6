"""Small-cell suppression: the differencing attack on every level and filter combination.

A synthetic population is written straight into the rollup (the dashboards read only the
rollup). For every combination of the filters (aid kind, ground, category, decision, period,
academic year) the attacker reads what an analyst sees on every unit's dashboard — the
republic, each region, district and school — and writes down every identity a reader knows:
scored = categories 1–6; category 6 = the high-welfare figure; requests = approved + rejected +
no decision; requests = pending + needs review + withdrawn + (the rest); requests = scored +
(not scored); every monthly series sums to its total; a parent's every figure is the sum of
its children's (the children's rows and the children's own pages); the histogram sums to (a
count). Then exact linear algebra (every combination of subtractions at once): a hidden figure
that the equations pin down while its true value is below STATS_MIN_CELL (or an amount of such
a count) is a successful attack and fails the test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

from portal.stats.models import HIST_FIELDS
from portal.stats.selectors import (
    CATEGORIES,
    CHILD_FIGURES,
    MONTH_FIGURES,
    TOTAL_FIGURES,
    StatsFilters,
    Unit,
    stats_dashboard,
    stats_tree,
)
from portal.stats.services import StatsRow, stats_apply
from portal.stats.suppression import Lattice, suppress
from schools.models import District, Region, School
from schools.scope import scope_for
from tests.conftest import _school

pytestmark = pytest.mark.django_db
K = 5
P = (1 << 61) - 1  # elimination modulo a large prime: the rank over Q for small coefficients
MONTHS = (dt.date(2026, 5, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1))
KINDS = ("uniform", "meals", "supplies")
GROUNDS = ("asp", "below_subsistence")


def _year(month: dt.date) -> str:
    y = month.year if month.month >= 9 else month.year - 1
    return f"{y}-{y + 1}"


@pytest.fixture
def population(world, settings):
    settings.STATS_MIN_CELL = K
    schools = [
        world.school_a,
        _school(world.kaz, 4, 44),
        _school(world.kaz, 5, 55),
        world.school_b,
        _school(world.tem, 6, 66),
        world.school_c,
        _school(world.alf, 7, 77),
    ]
    sizes = (40, 9, 3, 25, 6, 30, 2)
    rng = random.Random(15)
    for school, size in zip(schools, sizes, strict=True):
        for _ in range(size):
            month = rng.choice(MONTHS)
            category = rng.choice((0, 1, 2, 3, 3, 4, 4, 5, 5, 6))
            if category == 0:
                status, outcome = rng.choice(("queued", "needs_review")), ""
            else:
                status = rng.choice(("scored", "decided", "decided", "decided", "withdrawn"))
                outcome = (
                    rng.choice(("approve", "approve", "reject")) if status == "decided" else ""
                )
            amount = rng.choice((20_000, 35_000, 50_000))
            stats_apply(
                None,
                StatsRow(
                    school_id=school.pk,
                    district_id=school.district_id,
                    region_id=school.district.region_id,
                    month=month,
                    academic_year=_year(month),
                    aid_kind=rng.choice(KINDS),
                    ground=rng.choice(GROUNDS),
                    category=category,
                    status=status,
                    outcome=outcome,
                    amount_requested=amount,
                    amount_approved=amount if outcome == "approve" else 0,
                    against=outcome == "reject" and category < 3,
                    duration_bucket=rng.randrange(len(HIST_FIELDS)) if category else None,
                ),
            )
    return schools


def _units() -> list[Unit]:
    units = [Unit("national", "", "", None)]
    units += [Unit("region", r.code, r.name, r.pk) for r in Region.objects.all()]
    units += [Unit("district", d.code, d.name, d.pk) for d in District.objects.all()]
    units += [Unit("school", str(s.public_id), s.name, s.pk) for s in School.objects.all()]
    return units


def _filter_combinations():
    periods = [(None, None), (MONTHS[1], MONTHS[1]), (MONTHS[1], MONTHS[2])]
    for kind, ground, category, decision, (start, end) in itertools.product(
        (None, *KINDS),
        (None, *GROUNDS),
        (None, 0, *CATEGORIES),
        (None, "approve", "reject", "none"),
        periods,
    ):
        yield StatsFilters(
            aid_kind=kind,
            ground=ground,
            category=category,
            decision=decision,
            month_from=start,
            month_to=end,
        )
    for year in ("2025-2026", "2026-2027"):
        for kind in (None, *KINDS):
            yield StatsFilters(academic_year=year, aid_kind=kind)


class Attack:
    """The attacker's linear system over what the pages show."""

    def __init__(self) -> None:
        self.known: dict = {}
        self.unknown: set = set()
        self.equations: list[dict] = []  # var -> coefficient; sum(coef * var) = 0

    def see(self, var, value) -> None:  # noqa: ANN001
        if value is None:
            self.unknown.add(var)
        else:
            assert self.known.get(var, value) == value, var
            self.known[var] = value

    def secret(self, var) -> None:  # noqa: ANN001 - a count no page shows
        self.unknown.add(var)

    def equal(self, total, parts) -> None:  # noqa: ANN001
        eq: dict = {}
        for v, c in [(total, -1), *((p, 1) for p in parts)]:
            eq[v] = eq.get(v, 0) + c
        self.equations.append(eq)

    def determined(self) -> set:
        """Unknowns whose value the equations fix (exact elimination modulo P)."""
        # A figure shown anywhere is known, even where another page hides it.
        unknown = self.unknown - set(self.known)
        index = {v: i for i, v in enumerate(sorted(unknown, key=repr))}
        rows = []
        for eq in self.equations:
            row = {}
            for v, c in eq.items():
                if v in index and c % P:
                    row[index[v]] = c % P
            if row:
                rows.append(row)
        pivots: dict[int, dict] = {}
        for row in rows:
            for col, row_p in pivots.items():
                if col in row:
                    f = row[col]
                    for c2, v2 in row_p.items():
                        row[c2] = (row.get(c2, 0) - f * v2) % P
                    row = {c: v for c, v in row.items() if v}
            if not row:
                continue
            col = min(row)
            inv = pow(row[col], P - 2, P)
            row = {c: v * inv % P for c, v in row.items()}
            for other in pivots.values():
                if col in other:
                    f = other[col]
                    for c2, v2 in row.items():
                        other[c2] = (other.get(c2, 0) - f * v2) % P
                    for c2 in [c for c, v in other.items() if not v]:
                        del other[c2]
            pivots[col] = row
        names = {i: v for v, i in index.items()}
        return {names[col] for col, row in pivots.items() if len(row) == 1}


def _attack(filters: StatsFilters, scope, units: list[Unit]) -> list[str]:  # noqa: ANN001
    tree = stats_tree(filters=filters)
    truth = stats_tree(filters=filters, suppressed=False)
    # Units without a request under the filters show only zeros (known to everyone).
    pages = {(u.level, u.pk): stats_dashboard(scope=scope, unit=u, filters=filters, tree=tree)
             for u in units if truth.true_value((u.level, u.pk), "requests")}  # fmt: skip
    a = Attack()
    codes = {page["unit"]["code"]: key for key, page in pages.items()}
    sensitive: dict = {}
    for (level, pk), page in pages.items():
        u = (level, pk)
        t = page["totals"]
        for f in TOTAL_FIGURES:
            a.see((u, f), t[f])
        for f in ("requests", "approved"):
            sensitive[(u, f)] = truth.true_value(u, f)
        sensitive[(u, "amount_requested")] = truth.true_value(u, "requests")
        sensitive[(u, "amount_approved")] = truth.true_value(u, "approved")
        for f in TOTAL_FIGURES:
            sensitive.setdefault((u, f), truth.true_value(u, {"high_welfare": "cat6"}.get(f, f)))
        for c in page["categories"]:
            a.see((u, "cat", c["category"]), c["requests"])
            sensitive[(u, "cat", c["category"])] = truth.true_value(u, f"cat{c['category']}")
        for i, d in enumerate(page["durations"]):
            a.see((u, "h", i), d["requests"])
            sensitive[(u, "h", i)] = truth.true_value(u, ("h", i))
        month_vals = {m["month"]: m for m in page["months"]}
        for m in MONTHS:
            key = m.strftime("%Y-%m")
            for f in MONTH_FIGURES:
                a.see((u, "m", key, f), month_vals[key][f] if key in month_vals else 0)
                base = {"high_welfare": "cat6", "amount_approved": "approved"}.get(f, f)
                sensitive[(u, "m", key, f)] = truth.true_value(u, ("m", m, base))
        for var in ("rest", "unscored", "dur"):
            a.secret((u, var))
        a.equal((u, "scored"), [(u, "cat", c) for c in CATEGORIES])
        a.equal((u, "high_welfare"), [(u, "cat", 6)])
        a.equal((u, "requests"), [(u, "approved"), (u, "rejected"), (u, "no_decision")])
        a.equal(
            (u, "requests"), [(u, "pending"), (u, "needs_review"), (u, "withdrawn"), (u, "rest")]
        )
        a.equal((u, "requests"), [(u, "scored"), (u, "unscored")])
        a.equal((u, "dur"), [(u, "h", i) for i in range(len(HIST_FIELDS))])
        for f in MONTH_FIGURES:
            a.equal((u, f), [(u, "m", m.strftime("%Y-%m"), f) for m in MONTHS])
        # The children's rows on this page are the children's own figures.
        kids = []
        for row in page["children"]:
            if row["code"] not in codes:
                assert all(row[f] == 0 for f in CHILD_FIGURES), row
                continue
            child = codes[row["code"]]
            kids.append(child)
            for f in CHILD_FIGURES:
                a.see((child, f), row[f])
        if kids:
            for var in [
                *TOTAL_FIGURES, "rest", "unscored", "dur",
                *(("cat", c) for c in CATEGORIES),
                *(("h", i) for i in range(len(HIST_FIELDS))),
                *(("m", m.strftime("%Y-%m"), f) for m in MONTHS for f in MONTH_FIGURES),
            ]:  # fmt: skip
                var_t = var if isinstance(var, tuple) else (var,)
                a.equal((u, *var_t), [(kid, *var_t) for kid in kids])
    problems = []
    for var, value in a.known.items():
        if 0 < value < K and not str(var[1]).startswith("amount") and "amount" not in var:
            problems.append(f"shown small cell {var}={value} under {filters}")
    for var in a.determined():
        if var in sensitive and 0 < sensitive[var] < K:
            problems.append(f"recovered {var}={sensitive[var]} under {filters}")
    return problems


def test_it_defeats_the_differencing_attack_on_every_level_and_filter(population, world):
    scope = scope_for(world.user("ministry_analyst"))
    units = _units()
    problems: list[str] = []
    combos = 0
    for filters in _filter_combinations():
        combos += 1
        problems += _attack(filters, scope, units)
    assert combos > 1000
    assert not problems, problems[:20]


def test_the_attack_finds_small_cells_without_suppression(population, world, settings):
    """The attack itself works: with suppression off it recovers (here: simply sees) cells."""
    settings.STATS_MIN_CELL = 1
    scope = scope_for(world.user("ministry_analyst"))
    assert _attack(StatsFilters(aid_kind="meals"), scope, _units())


def test_it_hides_at_least_two_cells_of_every_relation():
    lat = Lattice()
    for cell, v in (("t", 12), ("a", 2), ("b", 6), ("c", 4)):
        lat.add(cell, v)
    lat.relate("t", ["a", "b", "c"])
    hidden = suppress(lat, k=5)
    assert {"a", "c"} <= hidden and "t" not in hidden  # 2 + 4 = 6 ≥ 5: enough
    lat = Lattice()
    for cell, v in (("t", 9), ("a", 1), ("b", 1), ("c", 7)):
        lat.add(cell, v)
    lat.relate("t", ["a", "b", "c"])
    assert suppress(lat, k=5) == {"a", "b", "c"}  # 1 + 1 = 2 would be "both are 1"


def test_school_staff_see_their_own_school_in_full(population, world):
    scope = scope_for(world.user("pedagogue_a"))
    unit = Unit("school", str(world.school_a.public_id), "", world.school_a.pk)
    page = stats_dashboard(scope=scope, unit=unit, filters=StatsFilters(aid_kind="meals"))
    assert not page["suppression"]["applied"]
    values = [c["requests"] for c in page["categories"]]
    assert None not in values and any(0 < v < K for v in values)
    analyst = stats_dashboard(
        scope=scope_for(world.user("district_analyst")),
        unit=unit,
        filters=StatsFilters(aid_kind="meals"),
    )
    assert analyst["suppression"]["applied"] and None in [
        c["requests"] for c in analyst["categories"]
    ]


def test_every_output_path_shows_the_same_suppressed_figures(population, world, client_for):
    """Page, chart data, table view, CSV, XLSX and the API: one module, the same hidden cells."""
    import csv
    import io
    import json

    from django.urls import reverse
    from openpyxl import load_workbook

    params = {"level": "district", "code": "KAR-KAZ", "aid_kind": "meals"}
    c = client_for("district_analyst")
    body = c.get("/api/v1/stats/", params).json()
    assert body["suppression"]["applied"] and body["suppression"]["min_cell"] == K
    cats = {x["category"]: x["requests"] for x in body["categories"]}
    assert None in cats.values()
    assert all(v is None or v == 0 or v >= K for v in cats.values())
    page = c.get(reverse("stats:dashboard"), params).content.decode()
    assert 'data-testid="stats-suppression"' in page and "stat-hidden" in page
    chart = json.loads(page.split('id="dashboard-data" type="application/json">')[1].split("<")[0])
    assert chart["categories"]["series"][0]["data"] == [cats[k] for k in sorted(cats)]
    text = c.get(reverse("stats:export-csv"), params).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    start = rows.index(["Категория", "Заявок"])
    csv_cats = {int(r[0]): r[1] for r in rows[start + 1 : start + 7]}
    assert csv_cats == {k: "•" if v is None else str(v) for k, v in cats.items()}
    wb = load_workbook(io.BytesIO(c.get(reverse("stats:export-xlsx"), params).content))
    xl = {r[0]: r[1] for r in wb["Категории"].iter_rows(min_row=2, values_only=True)}
    assert xl == {k: "•" if v is None else v for k, v in cats.items()}
    kids = {k["code"]: k for k in body["children"]}
    for code, kid in kids.items():
        own = c.get("/api/v1/stats/", {**params, "level": "school", "code": code}).json()
        assert own["totals"]["requests"] == kid["requests"]
        assert own["totals"]["amount_approved"] == kid["amount_approved"]
