"""Appeals against a decision (app label ``portal``) and their attachments.

An appeal is filed by the school on the family's behalf within the appeal period of the
decision it challenges, and decided by the district's reviewer (``district_reviewer``), never by
the school: upheld, revised (a new decision and a new letter; the old ones superseded) or
re-scored from the card as corrected by the appeal's claims.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

REASON_MAX_LENGTH = 4000


class AppealQuerySet(models.QuerySet):
    def for_scope(self, scope) -> AppealQuerySet:  # noqa: ANN001 - schools.scope.Scope
        """The appeals of the scope's schools (a district reviewer: the district's)."""
        if scope.sees_all_schools:
            return self
        return self.filter(school_id__in=scope.school_ids)

    def open(self) -> AppealQuerySet:
        return self.filter(status=Appeal.Status.OPEN)

    def overdue(self, today=None) -> AppealQuerySet:  # noqa: ANN001 - a date
        return self.open().filter(answer_due__lt=today or timezone.localdate())


class Appeal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("на рассмотрении")
        DECIDED = "decided", _("рассмотрена")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("решение оставлено в силе")
        REVISED = "revised", _("решение изменено")
        RESCORED = "rescored", _("пересчитано по исправленной карте")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "portal.AidRequest", on_delete=models.PROTECT, related_name="appeals"
    )
    # The decision appealed against: one appeal per decision.
    decision = models.OneToOneField(
        "portal.Decision", on_delete=models.PROTECT, related_name="appeal"
    )
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("статус"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    reason = models.TextField(
        _("доводы жалобы"),
        max_length=REASON_MAX_LENGTH,
        validators=[MaxLengthValidator(REASON_MAX_LENGTH)],
    )
    # [{"path": "members[0].incomes.wage", "current": 120000, "claimed": 0}, …]
    disputed = models.JSONField(_("оспариваемые сведения карты"), default=list, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("подана"), default=timezone.now)
    answer_due = models.DateField(_("ответить до"))
    outcome = models.CharField(_("итог"), max_length=16, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(
        _("обоснование итога"),
        blank=True,
        max_length=REASON_MAX_LENGTH,
        validators=[MaxLengthValidator(REASON_MAX_LENGTH)],
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("рассмотрена"), null=True, blank=True)
    # A revised outcome's new decision.
    new_decision = models.OneToOneField(
        "portal.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="made_on_appeal",
    )

    objects = AppealQuerySet.as_manager()

    PERSONAL_DATA = {
        "fields": ("reason", "disputed"),
        "kind": _("Жалоба семьи на решение: доводы и оспариваемые сведения"),
        "purpose": _("Рассмотреть жалобу на решение о помощи"),
        "roles": ("pedagogue", "principal", "district_reviewer", "auditor"),
        "retention": ("RETENTION_APPROVED_DAYS", "RETENTION_CLOSED_DAYS"),
    }

    class Meta:
        app_label = "portal"
        ordering = ["-filed_at", "-id"]
        verbose_name = _("жалоба")
        verbose_name_plural = _("жалобы")
        constraints = [
            models.CheckConstraint(
                name="appeal_outcome_iff_decided",
                condition=Q(
                    status="open", outcome="", decided_at__isnull=True, decided_by__isnull=True
                )
                | (
                    Q(status="decided", decided_at__isnull=False, decided_by__isnull=False)
                    & ~Q(outcome="")
                ),
            ),
            models.CheckConstraint(
                name="appeal_new_decision_iff_revised",
                condition=Q(outcome="revised", new_decision__isnull=False)
                | (~Q(outcome="revised") & Q(new_decision__isnull=True)),
            ),
            models.CheckConstraint(
                name="appeal_decider_is_not_filer",
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("filed_by")),
            ),
            models.UniqueConstraint(
                fields=["request"], condition=Q(status="open"), name="appeal_one_open_per_request"
            ),
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def is_overdue(self, today=None) -> bool:  # noqa: ANN001 - a date
        return self.is_open and (today or timezone.localdate()) > self.answer_due


def _attachment_path(instance: AppealAttachment, filename: str) -> str:
    # Never the family's file name on disk: a random name with the checked extension.
    return f"appeals/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{instance.extension}"


class AppealAttachment(models.Model):
    class Kind(models.TextChoices):
        PDF = "application/pdf", "PDF"
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("файл"), upload_to=_attachment_path, max_length=200)
    original_name = models.CharField(_("имя файла"), max_length=200)
    content_type = models.CharField(_("тип"), max_length=32, choices=Kind.choices)
    size = models.PositiveIntegerField(_("размер, байт"))
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    PERSONAL_DATA = {
        "fields": ("file", "original_name"),
        "kind": _("Документы, приложенные к жалобе"),
        "purpose": _("Рассмотреть жалобу на решение о помощи"),
        "roles": ("pedagogue", "principal", "district_reviewer", "auditor"),
        "retention": ("RETENTION_APPROVED_DAYS", "RETENTION_CLOSED_DAYS"),
    }

    class Meta:
        app_label = "portal"
        ordering = ["id"]
        verbose_name = _("вложение жалобы")
        verbose_name_plural = _("вложения жалоб")

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
            self.content_type, "bin"
        )
