"""Decision letters (app label ``portal``): one per decision, superseded by a later one."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.requests.models import FamilyLanguage


class LetterQuerySet(models.QuerySet):
    def for_scope(self, scope) -> LetterQuerySet:  # noqa: ANN001 - schools.scope.Scope
        if scope.sees_all_schools:
            return self
        return self.filter(school_id__in=scope.school_ids)

    def unscoped(self) -> LetterQuerySet:
        """Deliberate access without a scope: issuing on commit and the public verification
        (which shows only the date, the school and the decision)."""
        return self


class Letter(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("действует")
        SUPERSEDED = "superseded", _("заменено новым решением")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "portal.AidRequest", on_delete=models.PROTECT, related_name="letters"
    )
    decision = models.OneToOneField(
        "portal.Decision", on_delete=models.PROTECT, related_name="letter"
    )
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("код проверки"), max_length=20, unique=True)
    family_language = models.CharField(
        _("язык семьи"), max_length=2, choices=FamilyLanguage.choices
    )
    status = models.CharField(
        _("статус"), max_length=16, choices=Status.choices, default=Status.ISSUED
    )
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    appeal_until = models.DateField(_("обжаловать до"))
    issued_at = models.DateTimeField(_("выдано"), default=timezone.now)

    objects = LetterQuerySet.as_manager()

    class Meta:
        app_label = "portal"
        ordering = ["-issued_at", "-id"]
        verbose_name = _("письмо о решении")
        verbose_name_plural = _("письма о решениях")
        constraints = [
            models.CheckConstraint(
                name="letter_superseded_iff_successor",
                condition=Q(status="issued", superseded_by__isnull=True)
                | Q(status="superseded", superseded_at__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="issued"),
                name="letter_one_in_force_per_request",
            ),
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def code_grouped(self) -> str:
        from portal.letters.codes import grouped

        return grouped(self.code)
