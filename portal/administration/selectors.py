"""Reads of network administration. The first keyword argument is always the scope.

A network administrator sees the schools and the staff of the network — never family data.
Anything outside the scope answers 404 exactly like a missing object.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from schools.models import District, Membership, School
from schools.scope import Scope, require


def _require(scope: Scope) -> None:
    require(scope, "can_admin_network")


def admin_schools(
    *, scope: Scope, q: str = "", district: str = "", connected: str = ""
) -> QuerySet[School]:
    _require(scope)
    qs = (
        School.objects.for_scope(scope)
        .select_related("district__region")
        .annotate(staff_count=Count("staff"))
        .order_by("district__region__code", "district__code", "number", "name_ru", "pk")
    )
    q = (q or "").strip()
    if q:
        cond = Q(name_ru__icontains=q) | Q(name_kk__icontains=q) | Q(bin__startswith=q)
        if q.isdigit() and len(q) <= 4:
            cond |= Q(number=int(q))
        qs = qs.filter(cond)
    if district:
        qs = qs.filter(district__code=district)
    if connected in ("1", "0"):
        qs = qs.filter(connected=connected == "1")
    return qs


def admin_school(*, scope: Scope, public_id: Any) -> School:
    _require(scope)
    try:
        return (
            School.objects.for_scope(scope)
            .select_related("district__region")
            .get(public_id=public_id)
        )
    except (School.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


def admin_districts(*, scope: Scope) -> QuerySet[District]:
    _require(scope)
    ids = School.objects.for_scope(scope).values("district_id")
    if scope.sees_all_schools:
        return District.objects.select_related("region")
    return District.objects.filter(pk__in=ids).select_related("region")


def _staff_in_scope(scope: Scope) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("user", "school__district", "district", "region")
    if scope.sees_all_schools:
        return qs
    return qs.filter(school_id__in=scope.school_ids)


def admin_staff(
    *, scope: Scope, q: str = "", role: str = "", school: School | None = None, active: str = ""
) -> QuerySet[Membership]:
    _require(scope)
    qs = _staff_in_scope(scope).order_by("full_name", "pk")
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(full_name__icontains=q) | Q(user__username__icontains=q) | Q(user__email__icontains=q)
        )
    if role:
        qs = qs.filter(role=role)
    if school is not None:
        qs = qs.filter(school=school)
    if active in ("1", "0"):
        qs = qs.filter(user__is_active=active == "1")
    return qs


def admin_member(*, scope: Scope, public_id: Any) -> Membership:
    _require(scope)
    try:
        return _staff_in_scope(scope).get(public_id=public_id)
    except (Membership.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


def member_has_mfa(membership: Membership) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=membership.user, type=Authenticator.Type.TOTP).exists()
