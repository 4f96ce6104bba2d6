from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FamilyCardSimulatorConfig(AppConfig):
    """The family card simulator: a stand-in for the external family card service."""

    name = "scoring.simulator"
    label = "familycard_sim"
    verbose_name = _("Симулятор сервиса карт семьи")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Development servers log request lines with the query string (?iin=…): redact them.
        from scoring.sources import install_log_redaction

        install_log_redaction("django.server")
