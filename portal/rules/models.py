"""Models of rules administration (app label ``portal``: the table is ``portal_rescorebatch``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RescoreBatchStatus(models.TextChoices):
    PENDING = "pending", _("в очереди")
    RUNNING = "running", _("выполняется")
    DONE = "done", _("готово")
    FAILED = "failed", _("ошибка")


RESCORE_ACTIVE_STATUSES = (RescoreBatchStatus.PENDING, RescoreBatchStatus.RUNNING)


class RescoreBatch(models.Model):
    """Re-scoring of the open (``scored``) requests with a published rule set, as a batch.

    Each re-scored request gets a new assessment (the frozen card of its latest one, linked
    through ``previous``) and a new scoring attempt. Holds counts only, never family data.
    """

    Status = RescoreBatchStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ruleset = models.ForeignKey(
        "scoring.RuleSet",
        on_delete=models.PROTECT,
        related_name="rescore_batches",
        verbose_name=_("набор правил"),
    )
    status = models.CharField(
        _("статус"),
        max_length=16,
        choices=RescoreBatchStatus.choices,
        default=RescoreBatchStatus.PENDING,
    )
    total = models.PositiveIntegerField(_("всего открытых заявок"), default=0)
    done = models.PositiveIntegerField(_("обработано"), default=0)
    rescored = models.PositiveIntegerField(_("пересчитано"), default=0)
    changed = models.PositiveIntegerField(_("категория изменилась"), default=0)
    error = models.TextField(_("ошибка"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("кто запустил"),
    )
    created_at = models.DateTimeField(_("запущен"), auto_now_add=True)
    started_at = models.DateTimeField(_("начат"), null=True, blank=True)
    finished_at = models.DateTimeField(_("завершён"), null=True, blank=True)

    class Meta:
        app_label = "portal"
        ordering = ["-created_at", "-pk"]
        verbose_name = _("пересчёт открытых заявок")
        verbose_name_plural = _("пересчёты открытых заявок")
        constraints = [
            models.UniqueConstraint(
                fields=["ruleset"],
                condition=Q(status__in=["pending", "running"]),
                name="rescorebatch_one_active_per_ruleset",
            )
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def progress(self) -> int:
        """Percent done (0..100)."""
        if self.status == RescoreBatchStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)

    @property
    def is_finished(self) -> bool:
        return self.status in (RescoreBatchStatus.DONE, RescoreBatchStatus.FAILED)
