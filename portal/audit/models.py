"""The append-only audit log (app label ``portal``: the table is ``portal_auditevent``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scoring.fields import BulkJSONField


class AuditEvent(models.Model):
    """Append-only: a PostgreSQL trigger refuses UPDATE and DELETE (migration 0002).

    ``detail`` never holds an ИИН, a name or an income.
    """

    class Outcome(models.TextChoices):
        OK = "ok", _("успешно")
        DENIED = "denied", _("отказано")
        ERROR = "error", _("ошибка")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, blank=True)
    school_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OK)
    detail = BulkJSONField(default=dict, blank=True)

    # The register of processing (portal.privacy.register) reads this declaration.
    PERSONAL_DATA = {
        "fields": ("actor_username", "ip"),
        "kind": _("Журнал аудита: кто из сотрудников, когда и с какого адреса что сделал"),
        "purpose": _("Подотчётность: кто видел данные семьи и что менял"),
        "roles": ("auditor",),
        "retention": (),
    }

    class Meta:
        app_label = "portal"
        ordering = ["-created_at", "-id"]
        verbose_name = _("событие аудита")
        verbose_name_plural = _("журнал аудита")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_id}"
