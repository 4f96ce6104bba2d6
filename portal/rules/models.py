"""Models of rules administration (app label ``portal``).

**One background-run model**, :class:`BackgroundRun` (table ``portal_backgroundrun``), holds
every long job of rules administration: the impact preview of a draft and the re-scoring of
the open requests with a published rule set. Both share one life (pending → running → done |
failed), one progress (``processed`` of ``total``), one error field and one time limit rule
(the task's hard limit in ``settings.CELERY_TASK_TIME_LIMITS``). :class:`ImpactPreview` and
:class:`RescoreBatch` are proxies: the same rows, filtered by ``kind``. Counts only, never
family data.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BackgroundRunStatus(models.TextChoices):
    PENDING = "pending", _("в очереди")
    RUNNING = "running", _("выполняется")
    DONE = "done", _("готово")
    FAILED = "failed", _("ошибка")


class BackgroundRunKind(models.TextChoices):
    IMPACT_PREVIEW = "impact_preview", _("предпросмотр влияния")
    RESCORE = "rescore", _("пересчёт открытых заявок")


# Kept names: the statuses of both kinds are the run's statuses.
ImpactPreviewStatus = BackgroundRunStatus
RescoreBatchStatus = BackgroundRunStatus
RUN_ACTIVE_STATUSES = (BackgroundRunStatus.PENDING, BackgroundRunStatus.RUNNING)
RESCORE_ACTIVE_STATUSES = RUN_ACTIVE_STATUSES

TASKS = {
    BackgroundRunKind.IMPACT_PREVIEW: "portal.rules_impact_preview",
    BackgroundRunKind.RESCORE: "portal.rules_rescore_open_requests",
}


class BackgroundRun(models.Model):
    """One long job of rules administration (see the module docstring)."""

    Status = BackgroundRunStatus
    Kind = BackgroundRunKind

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("вид"), max_length=16, choices=BackgroundRunKind.choices)
    ruleset = models.ForeignKey(
        "scoring.RuleSet",
        on_delete=models.PROTECT,
        related_name="background_runs",
        verbose_name=_("набор правил"),
    )
    status = models.CharField(
        _("статус"),
        max_length=16,
        choices=BackgroundRunStatus.choices,
        default=BackgroundRunStatus.PENDING,
    )
    total = models.PositiveIntegerField(_("всего"), default=0)
    processed = models.PositiveIntegerField(_("обработано"), default=0)
    # The re-score's counters (0 for a preview).
    rescored = models.PositiveIntegerField(_("пересчитано"), default=0)
    changed = models.PositiveIntegerField(_("категория изменилась"), default=0)
    # The preview's input and result (empty for a re-score).
    document_sha256 = models.CharField(
        _("SHA-256 документа при запуске"), max_length=64, blank=True
    )
    period_from = models.DateField(_("период с"), null=True, blank=True)
    period_to = models.DateField(_("период по"), null=True, blank=True)
    result = models.JSONField(_("результат"), default=dict, blank=True)
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
        verbose_name = _("фоновая задача правил")
        verbose_name_plural = _("фоновые задачи правил")
        constraints = [
            models.UniqueConstraint(
                fields=["ruleset"],
                condition=Q(kind="rescore", status__in=["pending", "running"]),
                name="backgroundrun_one_active_rescore_per_ruleset",
            ),
            models.CheckConstraint(
                name="backgroundrun_period",
                condition=Q(period_to__isnull=True)
                | Q(period_from__isnull=True)
                | Q(period_to__gte=models.F("period_from")),
                violation_error_message=_("Конец периода раньше его начала."),
            ),
            models.CheckConstraint(
                name="backgroundrun_kind_valid",
                condition=Q(kind__in=["impact_preview", "rescore"]),
            ),
        ]
        indexes = [models.Index(fields=["kind", "ruleset", "status"])]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def progress(self) -> int:
        """Percent done (0..100)."""
        if self.status == BackgroundRunStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.processed * 100 // self.total)

    @property
    def is_finished(self) -> bool:
        return self.status in (BackgroundRunStatus.DONE, BackgroundRunStatus.FAILED)

    @property
    def time_limit(self) -> dt.timedelta:
        """The hard time limit of this kind's task (settings.CELERY_TASK_TIME_LIMITS)."""
        return dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMITS[TASKS[self.kind]][1])

    def is_dead(self, now: dt.datetime | None = None) -> bool:
        """Running for longer than its task may live: the worker is gone."""
        since = self.started_at or self.created_at
        return (
            self.status == BackgroundRunStatus.RUNNING
            and since is not None
            and (now or timezone.now()) - since > self.time_limit
        )


class _KindManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(kind=self.model.KIND)


class KindRun(BackgroundRun):
    """A proxy of one kind (the base of ImpactPreview and RescoreBatch)."""

    KIND: ClassVar[str] = ""
    # Whether a redelivered task picks up a run already marked running (see services).
    RESUME_RUNNING: ClassVar[bool] = False

    objects = _KindManager()

    class Meta:
        proxy = True
        app_label = "portal"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.kind:
            self.kind = self.KIND


class ImpactPreview(KindRun):
    """Shadow scoring of stored assessments of a period with a draft (old → new categories).

    ``result`` holds only counts (matrix, per region, per school keyed by school id) and, per
    school, the public ids of affected aid requests; never family data.
    """

    KIND = BackgroundRunKind.IMPACT_PREVIEW

    class Meta:
        proxy = True
        app_label = "portal"
        verbose_name = _("предпросмотр влияния")
        verbose_name_plural = _("предпросмотры влияния")

    @property
    def created_by(self) -> Any:
        return self.started_by

    @created_by.setter
    def created_by(self, user: Any) -> None:
        self.started_by = user


class RescoreBatch(KindRun):
    """Re-scoring of the open (``scored``) requests with a published rule set, as a batch.

    Each re-scored request gets a new assessment (the frozen card of its latest one, linked
    through ``previous``) and a new scoring attempt. A redelivered task resumes a running
    batch: every request is re-scored at most once per rule set.
    """

    KIND = BackgroundRunKind.RESCORE
    RESUME_RUNNING = True

    class Meta:
        proxy = True
        app_label = "portal"
        verbose_name = _("пересчёт открытых заявок")
        verbose_name_plural = _("пересчёты открытых заявок")

    @property
    def done(self) -> int:
        return self.processed

    @done.setter
    def done(self, value: int) -> None:
        self.processed = value
