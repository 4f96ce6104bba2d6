from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = _("Учётные записи")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from portal.accounts import mfa, schema  # noqa: F401 - OpenAPI auth extensions

        mfa.secure_admin_site(admin.site)
