"""Django-admin permissions of the staff roles that work in the admin panel.

Groups are (re)built after every migrate, so a new model's permissions reach the role at once.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

# role → list of (app_label, model, actions)
ADMIN_ROLE_PERMISSIONS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "rules_admin": [
        ("scoring", "ruleset", ("view", "add", "change")),
        ("scoring", "goldencase", ("view", "add", "change", "delete")),
        ("scoring", "assessment", ("view",)),
    ],
    "auditor": [
        ("portal", "auditevent", ("view",)),
        ("scoring", "ruleset", ("view",)),
        ("scoring", "assessment", ("view",)),
    ],
}


def role_groups_sync(**_kwargs: object) -> None:
    for role, rows in ADMIN_ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        query = Q(pk__in=[])
        for app_label, model, actions in rows:
            query |= Q(
                content_type__app_label=app_label,
                content_type__model=model,
                codename__in=[f"{a}_{model}" for a in actions],
            )
        group.permissions.set(Permission.objects.filter(query))
