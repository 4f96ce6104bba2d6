"""The notice outbox (app label ``portal``): one row per event × channel, written in the same
transaction as the event; a Celery task delivers it (``portal.notices.tasks``)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NoticeQuerySet(models.QuerySet):
    def for_scope(self, scope) -> NoticeQuerySet:  # noqa: ANN001 - schools.scope.Scope
        if scope.sees_all_schools:
            return self
        return self.filter(request__school_id__in=scope.school_ids)

    def unscoped(self) -> NoticeQuerySet:
        """Deliberate access without a scope: the delivery task and the outbox sweeper."""
        return self


class Notice(models.Model):
    class Event(models.TextChoices):
        RECEIVED = "received", _("заявка принята")
        DECIDED = "decided", _("решение принято")
        APPEAL_DECIDED = "appeal_decided", _("жалоба рассмотрена")
        PAYMENT_FAILED = "payment_failed", _("выплата не прошла")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("электронная почта")

    class Status(models.TextChoices):
        PENDING = "pending", _("ожидает отправки")
        SENT = "sent", _("отправлено")
        FAILED = "failed", _("не доставлено")
        SKIPPED = "skipped", _("не отправлялось: отказ от уведомлений")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "portal.AidRequest", on_delete=models.PROTECT, related_name="notices"
    )
    event = models.CharField(_("событие"), max_length=16, choices=Event.choices)
    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("получатель"), max_length=254)
    language = models.CharField(_("язык"), max_length=2)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # Sent to the gateway with every attempt: a retried or doubled delivery is one message.
    idempotency_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        _("статус"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=64, blank=True)  # a code, never family data
    provider_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NoticeQuerySet.as_manager()

    # The register of processing (portal.privacy.register) reads this declaration.
    PERSONAL_DATA = {
        "fields": ("recipient", "subject", "body"),
        "kind": _("Уведомления семье: телефон или e-mail получателя и текст сообщения"),
        "purpose": _("Сообщить семье о приёме заявки и о решении"),
        "roles": ("pedagogue", "principal", "auditor"),
        "retention": ("RETENTION_APPROVED_DAYS", "RETENTION_CLOSED_DAYS"),
    }

    class Meta:
        app_label = "portal"
        ordering = ["-created_at", "-id"]
        verbose_name = _("уведомление")
        verbose_name_plural = _("уведомления")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event}/{self.channel} {self.status}"
