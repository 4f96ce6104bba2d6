from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Портал")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal import (
            checks,  # noqa: F401 - registers the system checks
            metrics,
        )
        from portal.roles import role_groups_sync

        metrics.connect_signals()
        from portal.devserver import install_for_runserver

        install_for_runserver()

        post_migrate.connect(role_groups_sync, sender=self, dispatch_uid="komek-role-groups")
        from portal.db_scope import app_role_grant_after_migrate

        post_migrate.connect(
            app_role_grant_after_migrate, sender=self, dispatch_uid="komek-app-role-grant"
        )
