"""The scope: what a user may see. `scope_for(user)` is the only code that reads memberships
to decide access; everything else takes a `Scope` and asks it.

Levels: ``school`` (pedagogue, principal), ``district``, ``region``, ``national`` and ``none``
(signed in but with no role: sees nothing).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from schools.models import SCHOOL_ROLES, Membership, Role, School


@dataclass(frozen=True, slots=True)
class Scope:
    user_id: int | None
    role: str | None
    level: str  # school | district | region | national | none
    school_ids: frozenset[int] = field(default_factory=frozenset)
    district_id: int | None = None
    region_id: int | None = None
    is_superuser: bool = False

    # ---- what the scope allows -----------------------------------------------------------
    @property
    def sees_all_schools(self) -> bool:
        return self.level == "national"

    @property
    def is_school_staff(self) -> bool:
        return self.role in SCHOOL_ROLES

    @property
    def sees_family_data(self) -> bool:
        """Names, ИИН, cards and criteria: the school's own staff, auditors, superusers."""
        return self.is_school_staff or self.role == Role.AUDITOR or self.is_superuser

    @property
    def is_analyst(self) -> bool:
        return self.role in {
            Role.DISTRICT_ANALYST,
            Role.REGION_ANALYST,
            Role.MINISTRY_ANALYST,
        }

    @property
    def is_rules_admin(self) -> bool:
        return self.role == Role.RULES_ADMIN or self.is_superuser

    @property
    def is_auditor(self) -> bool:
        return self.role == Role.AUDITOR or self.is_superuser

    @property
    def is_network_admin(self) -> bool:
        """Schools and staff of the network (administration pages); never family data."""
        return self.role == Role.NETWORK_ADMIN or self.is_superuser

    @property
    def school_id(self) -> int | None:
        """The one school of a school-level scope."""
        if self.level == "school" and len(self.school_ids) == 1:
            return next(iter(self.school_ids))
        return None

    def contains_school(self, school_id: int) -> bool:
        return self.sees_all_schools or school_id in self.school_ids

    def contains_region(self, region_id: int) -> bool:
        """The whole region is inside the scope (national, or this region's analyst)."""
        return self.sees_all_schools or (self.level == "region" and self.region_id == region_id)

    def contains_district(self, district_id: int, region_id: int) -> bool:
        """The whole district is inside the scope."""
        return self.contains_region(region_id) or (
            self.level == "district" and self.district_id == district_id
        )

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or self.role in roles

    # ---- capabilities: what the scope may do (checked with `require`) ----------------------
    @property
    def can_act_on_requests(self) -> bool:
        """Submit, correct, decide, contest and withdraw aid requests of its school."""
        return self.is_school_staff

    @property
    def can_sign_decisions(self) -> bool:
        """The second signature on a decision of its school (never on one's own decision)."""
        return self.role == Role.PRINCIPAL

    @property
    def can_view_stats(self) -> bool:
        return self.is_analyst or self.is_school_staff or self.is_superuser

    @property
    def can_view_schools(self) -> bool:
        return self.is_analyst or self.is_superuser

    @property
    def can_admin_rules(self) -> bool:
        return self.is_rules_admin

    @property
    def can_audit(self) -> bool:
        return self.is_auditor

    @property
    def can_admin_network(self) -> bool:
        """Schools and staff of the network in the browser (``/administration/``)."""
        return self.is_network_admin

    @property
    def can_manage_budgets(self) -> bool:
        """Set the schools' budgets of its district (district finance); never family data."""
        return self.role == Role.DISTRICT_FINANCE or self.is_superuser

    @property
    def can_view_budgets(self) -> bool:
        """Allocated, committed and paid money of the schools in scope (no family data)."""
        return self.can_manage_budgets or self.is_school_staff or self.is_analyst

    @property
    def can_review_appeals(self) -> bool:
        """Decide the appeals of its district's schools (and see, for those appeals only, the
        family's data the appeal is about). Never the school's other requests."""
        return self.role == Role.DISTRICT_REVIEWER or self.is_superuser

    @property
    def can_use_admin(self) -> bool:
        """The Django admin panel (rule sets, golden cases; audited views)."""
        return self.is_rules_admin or self.is_auditor


CAPABILITIES = frozenset(
    {
        "can_act_on_requests",
        "can_sign_decisions",
        "can_view_stats",
        "can_view_schools",
        "can_admin_rules",
        "can_audit",
        "can_use_admin",
        "can_admin_network",
        "can_manage_budgets",
        "can_view_budgets",
        "can_review_appeals",
        "sees_family_data",
    }
)


def require(scope: Scope | None, capability: str, message: str | None = None) -> None:
    """Raise ``PermissionDenied`` (403) unless `scope` has `capability` (a name in
    :data:`CAPABILITIES`). An unknown capability is a programming error."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    if scope is None or not getattr(scope, capability):
        raise PermissionDenied(message or "")


NO_SCOPE = Scope(user_id=None, role=None, level="none")


#: Attribute a user object may carry: its membership ids as :func:`_membership_ids` returns
#: them, read in the same statement that loaded the user (the API token's, see
#: portal/accounts/authentication.py), so that :func:`scope_for` needs no statement of its own.
MEMBERSHIP_IDS = "_komek_membership_ids"
#: How many columns :func:`membership_select` gives.
MEMBERSHIP_WIDTH = 7


def membership_select(user_column: str) -> str:
    """``SELECT`` of the membership ids of the user whose id is ``user_column`` (an SQL
    expression: ``%s`` for a parameter, or a column of an outer query for a lateral join)."""
    from schools.models import District

    m, s, d = Membership._meta, School._meta, District._meta
    q = connection.ops.quote_name

    def col(meta: Any, name: str) -> str:
        return q(meta.get_field(name).column)

    return (
        f"SELECT m.{col(m, 'role')} AS m_role, m.{col(m, 'school')} AS m_school, "  # noqa: S608
        f"s.{col(s, 'district')} AS m_school_district, sd.{col(d, 'region')} AS m_school_region, "
        f"m.{col(m, 'district')} AS m_district, d.{col(d, 'region')} AS m_district_region, "
        f"m.{col(m, 'region')} AS m_region FROM {q(m.db_table)} m "
        f"LEFT JOIN {q(s.db_table)} s ON s.{q(s.pk.column)} = m.{col(m, 'school')} "
        f"LEFT JOIN {q(d.db_table)} sd ON sd.{q(d.pk.column)} = s.{col(s, 'district')} "
        f"LEFT JOIN {q(d.db_table)} d ON d.{q(d.pk.column)} = m.{col(m, 'district')} "
        f"WHERE m.{col(m, 'user')} = {user_column}"
    )


@functools.cache
def _membership_sql() -> str:
    return membership_select("%s")


def _membership_ids(user: Any) -> tuple | None:
    """The user's one membership (``user`` is one-to-one) as the ids a scope is made of:
    role, school, the school's district and region, district and its region, region. One
    fixed statement: loading the membership with its school, district and region as objects
    cost several times the query itself, on every call of the API. None of it when the user
    object came with them (``MEMBERSHIP_IDS``)."""
    known = getattr(user, MEMBERSHIP_IDS, False)
    if known is not False:
        return known
    with connection.cursor() as cur:
        cur.execute(_membership_sql(), [user.pk])
        return cur.fetchone()


def scope_for(user) -> Scope:  # noqa: ANN001 - any user object (AnonymousUser included)
    """Build the scope of `user` from its membership. Fail closed: no membership → nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_SCOPE
    if user.is_superuser:
        return Scope(user_id=user.pk, role=None, level="national", is_superuser=True)
    membership = _membership_ids(user)
    if membership is None:
        return Scope(user_id=user.pk, role=None, level="none")
    role, school_id, school_district, school_region, district_id, district_region, region_id = (
        membership
    )
    schools = School.objects.all()
    if role in SCHOOL_ROLES:
        return Scope(
            user_id=user.pk,
            role=role,
            level="school",
            school_ids=frozenset({school_id}),
            district_id=school_district,
            region_id=school_region,
        )
    if role in {Role.DISTRICT_ANALYST, Role.DISTRICT_FINANCE, Role.DISTRICT_REVIEWER}:
        ids = frozenset(schools.filter(district_id=district_id).values_list("pk", flat=True))
        return Scope(
            user_id=user.pk,
            role=role,
            level="district",
            school_ids=ids,
            district_id=district_id,
            region_id=district_region,
        )
    if role == Role.REGION_ANALYST:
        ids = frozenset(schools.filter(district__region_id=region_id).values_list("pk", flat=True))
        return Scope(
            user_id=user.pk,
            role=role,
            level="region",
            school_ids=ids,
            region_id=region_id,
        )
    return Scope(user_id=user.pk, role=role, level="national")


def school_for_scope_or_404(scope: Scope, **lookup) -> School:  # noqa: ANN003
    """Fetch one school inside the scope; a school outside it is indistinguishable from none."""
    try:
        return School.objects.for_scope(scope).select_related("district__region").get(**lookup)
    except (School.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
