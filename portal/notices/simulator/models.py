from __future__ import annotations

from django.db import models


class SimulatedSms(models.Model):
    """One message the simulated gateway accepted (one per idempotency key)."""

    message_id = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    to = models.CharField(max_length=20, db_index=True)
    sender = models.CharField(max_length=20, blank=True)
    text = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "sms_sim"
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return self.message_id
