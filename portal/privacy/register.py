"""The register of processing, generated from the code's own declarations.

Every model that keeps personal data declares it next to its fields as a class attribute
``PERSONAL_DATA`` (a plain dict, so that low packages such as ``schools`` and ``scoring`` need
not import this one)::

    PERSONAL_DATA = {
        "fields": ("student_iin", ...),   # the model's fields that hold personal data
        "kind": _("…"),                     # what it is, in words
        "purpose": _("…"),                  # why the portal keeps it
        "roles": ("pedagogue", ...),        # schools.models.Role values that see it
        "retention": ("RETENTION_APPROVED_DAYS", ...),  # setting names; () = while in use
    }

Models of other components (Django's user) are declared in :data:`EXTERNAL`.
:func:`personal_data_register` collects them all; ``tests/portal/privacy`` fails when a field
that holds personal data has no declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from schools.models import Role


@dataclass(frozen=True)
class PersonalData:
    model_label: str  # "portal.aidrequest"
    fields: tuple[str, ...]
    kind: Any
    purpose: Any
    roles: tuple[str, ...]
    retention: tuple[str, ...]

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.roles]

    @property
    def retention_days(self) -> list[tuple[str, int]]:
        return [(name, int(getattr(settings, name))) for name in self.retention]


EXTERNAL: dict[str, dict[str, Any]] = {
    "auth.user": {
        "fields": ("username", "first_name", "last_name", "email"),
        "kind": _("Учётная запись сотрудника: логин, имя, e-mail"),
        "purpose": _("Вход в портал и журнал аудита"),
        "roles": ("network_admin", "auditor"),
        "retention": (),
    },
    "account.emailaddress": {
        "fields": ("email",),
        "kind": _("Адрес e-mail сотрудника для входа и восстановления пароля"),
        "purpose": _("Вход в портал и восстановление пароля"),
        "roles": ("network_admin",),
        "retention": (),
    },
}

REQUIRED_KEYS = {"fields", "kind", "purpose", "roles", "retention"}


def _declaration(label: str, model: Any, raw: dict[str, Any]) -> PersonalData:
    missing = REQUIRED_KEYS - set(raw)
    if missing:
        raise ValueError(f"{label}: PERSONAL_DATA lacks {sorted(missing)}")
    field_names = {f.name for f in model._meta.get_fields()}
    unknown = set(raw["fields"]) - field_names
    if unknown:
        raise ValueError(f"{label}: PERSONAL_DATA names unknown fields {sorted(unknown)}")
    for role in raw["roles"]:
        Role(role)  # ValueError on an unknown role
    for name in raw["retention"]:
        if not hasattr(settings, name):
            raise ValueError(f"{label}: retention setting {name} does not exist")
    return PersonalData(
        model_label=label,
        fields=tuple(raw["fields"]),
        kind=raw["kind"],
        purpose=raw["purpose"],
        roles=tuple(raw["roles"]),
        retention=tuple(raw["retention"]),
    )


def personal_data_register() -> list[PersonalData]:
    """Every declaration, ordered by model label."""
    found: list[PersonalData] = []
    for model in apps.get_models():
        label = model._meta.label_lower
        raw = model.__dict__.get("PERSONAL_DATA") or EXTERNAL.get(label)
        if raw is not None:
            found.append(_declaration(label, model, raw))
    return sorted(found, key=lambda d: d.model_label)


def declared_fields() -> set[tuple[str, str]]:
    return {(d.model_label, f) for d in personal_data_register() for f in d.fields}
