"""A school's allocation for an academic year and the part of it committed by approvals.

``committed_kzt`` moves only under a row lock on the budget (``SELECT … FOR UPDATE`` in
:func:`portal.budgets.services.budget_reserve`), so concurrent approvals at the edge of a budget
serialize, and the database refuses a committed sum above the allocation (constraint).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.requests.models import validate_academic_year

MAX_BUDGET_KZT = 10**12


class BudgetQuerySet(models.QuerySet):
    def for_scope(self, scope) -> BudgetQuerySet:  # noqa: ANN001 - Scope
        if scope.sees_all_schools:
            return self
        return self.filter(school_id__in=scope.school_ids)


class Budget(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="budgets")
    academic_year = models.CharField(
        _("учебный год"), max_length=9, validators=[validate_academic_year]
    )
    amount_kzt = models.PositiveBigIntegerField(_("выделено, ₸"))
    committed_kzt = models.PositiveBigIntegerField(_("зарезервировано решениями, ₸"), default=0)
    paid_kzt = models.PositiveBigIntegerField(_("выплачено, ₸"), default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = BudgetQuerySet.as_manager()

    class Meta:
        app_label = "portal"
        ordering = ["school__district__region__code", "school__district__code", "school__number"]
        verbose_name = _("бюджет школы")
        verbose_name_plural = _("бюджеты школ")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "academic_year"], name="budget_one_per_school_year"
            ),
            models.CheckConstraint(
                name="budget_committed_within_amount",
                condition=Q(committed_kzt__lte=models.F("amount_kzt")),
            ),
            models.CheckConstraint(
                name="budget_amount_range", condition=Q(amount_kzt__lte=MAX_BUDGET_KZT)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_id}/{self.academic_year}"

    @property
    def left_kzt(self) -> int:
        return self.amount_kzt - self.committed_kzt
