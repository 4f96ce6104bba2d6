from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsSimulatorConfig(AppConfig):
    """The SMS gateway simulator: keeps every message it receives ("the guardian's phone")."""

    name = "portal.notices.simulator"
    label = "sms_sim"
    verbose_name = _("Симулятор SMS-шлюза")
    default_auto_field = "django.db.models.BigAutoField"
