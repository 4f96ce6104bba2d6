"""A payment of an approved decision to the guardian's account: one per decision, matched
with the bank's reconciliation by its reference."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("в реестре, ждёт банка")
        PAID = "paid", _("выплачено")
        FAILED = "failed", _("не выплачено")

    decision = models.OneToOneField(
        "portal.Decision", on_delete=models.PROTECT, related_name="payment"
    )
    reference = models.CharField(_("номер платежа"), max_length=32, unique=True)
    amount_kzt = models.PositiveIntegerField(_("сумма, ₸"))
    status = models.CharField(
        _("состояние"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    failure_reason = models.CharField(_("причина"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reconciled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "portal"
        ordering = ["created_at"]
        verbose_name = _("платёж")
        verbose_name_plural = _("платежи")

    def __str__(self) -> str:
        return self.reference
