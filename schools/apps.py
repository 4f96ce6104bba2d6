from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = _("Школы и сотрудники")
    default_auto_field = "django.db.models.BigAutoField"
