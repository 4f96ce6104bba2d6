"""Reads of budgets: one school's, and the allocated / committed / paid rollup of a scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from portal.budgets.models import Budget
from schools.models import School
from schools.scope import Scope


def budget_get(*, scope: Scope, school: School, academic_year: str) -> Budget | None:
    return (
        Budget.objects.for_scope(scope).filter(school=school, academic_year=academic_year).first()
    )


def budget_left(*, scope: Scope, school_id: int, academic_year: str) -> int | None:
    """What is left of a school's budget (None: no budget set for that year)."""
    b = (
        Budget.objects.for_scope(scope)
        .filter(school_id=school_id, academic_year=academic_year)
        .first()
    )
    return b.left_kzt if b else None


@dataclass(frozen=True)
class BudgetRow:
    level: str  # school | district | region | total
    name: str
    allocated_kzt: int
    committed_kzt: int
    paid_kzt: int
    school_bin: str = ""

    @property
    def left_kzt(self) -> int:
        return self.allocated_kzt - self.committed_kzt


def budget_rollup(*, scope: Scope, academic_year: str) -> list[BudgetRow]:
    """Allocated, committed and paid per school, then per district and region, then in total,
    over the schools in `scope` (schools without a budget show zeros)."""
    budgets = {
        b.school_id: b for b in Budget.objects.for_scope(scope).filter(academic_year=academic_year)
    }
    rows: list[BudgetRow] = []
    per_district: dict[int, list[int]] = {}
    per_region: dict[int, list[int]] = {}
    names: dict[tuple[str, int], str] = {}
    total = [0, 0, 0]
    schools = School.objects.for_scope(scope).select_related("district__region")
    for s in schools:
        b = budgets.get(s.pk)
        figs = [b.amount_kzt, b.committed_kzt, b.paid_kzt] if b else [0, 0, 0]
        rows.append(BudgetRow("school", s.name, *figs, school_bin=s.bin))
        for key, acc in (
            (("district", s.district_id), per_district.setdefault(s.district_id, [0, 0, 0])),
            (
                ("region", s.district.region_id),
                per_region.setdefault(s.district.region_id, [0, 0, 0]),
            ),
        ):
            for i in range(3):
                acc[i] += figs[i]
            names[key] = s.district.name if key[0] == "district" else s.district.region.name
        for i in range(3):
            total[i] += figs[i]
    rows += [BudgetRow("district", names[("district", k)], *v) for k, v in per_district.items()]
    rows += [BudgetRow("region", names[("region", k)], *v) for k, v in per_region.items()]
    rows.append(BudgetRow("total", "", *total))
    return rows


def budget_totals(*, scope: Scope, academic_year: str) -> dict[str, int]:
    agg = (
        Budget.objects.for_scope(scope)
        .filter(academic_year=academic_year)
        .aggregate(a=Sum("amount_kzt"), c=Sum("committed_kzt"), p=Sum("paid_kzt"))
    )
    return {
        "allocated_kzt": agg["a"] or 0,
        "committed_kzt": agg["c"] or 0,
        "paid_kzt": agg["p"] or 0,
    }
