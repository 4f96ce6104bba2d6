"""Retention: auditors' holds and the record of what was erased (app label ``portal``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RetentionHold(models.Model):
    """An auditor's hold: the request's family data is kept past its retention period until
    the hold is released (both with a reason, both audited)."""

    request = models.ForeignKey(
        "portal.AidRequest", on_delete=models.PROTECT, related_name="retention_holds"
    )
    reason = models.CharField(_("причина удержания"), max_length=500)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(_("причина снятия"), max_length=500, blank=True)

    class Meta:
        app_label = "portal"
        ordering = ["-placed_at", "-id"]
        verbose_name = _("удержание данных")
        verbose_name_plural = _("удержания данных")
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(released_at__isnull=True),
                name="retentionhold_one_active_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk}"


class RetentionErasure(models.Model):
    """A request whose family data the retention job erased (a reference, no identifier)."""

    request = models.OneToOneField(
        "portal.AidRequest", on_delete=models.PROTECT, related_name="retention_erasure"
    )
    erased_at = models.DateTimeField(default=timezone.now)
    policy = models.CharField(max_length=32)  # the setting that applied
    closed_at = models.DateTimeField()

    class Meta:
        app_label = "portal"
        ordering = ["-erased_at"]
        verbose_name = _("удаление данных по сроку хранения")
        verbose_name_plural = _("удаления данных по сроку хранения")

    def __str__(self) -> str:
        return f"erasure {self.pk}"
