"""One child, one grant: another school's open or approved request for the same child, kind
and year shows as `duplicates` (school name and request code only) and blocks an approval
without a recorded reason."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from portal.budgets.duplicates import request_code
from portal.requests import services
from portal.requests.models import AidRequest, Status
from schools.scope import scope_for
from tests.portal.factories import recorded_statements, score, student_iin, submit

pytestmark = pytest.mark.django_db


def _api(world, persona: str) -> APIClient:
    c = APIClient()
    c.force_authenticate(world.user(persona))
    return c


def test_the_other_schools_request_is_listed_without_family_data(world, no_enqueue):
    a = submit(world, "pedagogue_a", student_iin=student_iin(7))
    c = submit(world, "pedagogue_c", student_iin=student_iin(7))
    submit(world, "pedagogue_c", student_iin=student_iin(8))  # another child
    body = _api(world, "pedagogue_c").get(f"/api/v1/aid-requests/{c.public_id}/").json()
    assert body["duplicates"] == [
        {"school_name": world.school_a.name, "request_code": request_code(a)}
    ]
    assert a.student_full_name not in str(body["duplicates"])
    mine = _api(world, "pedagogue_a").get(f"/api/v1/aid-requests/{a.public_id}/").json()
    assert mine["duplicates"] == [
        {"school_name": world.school_c.name, "request_code": request_code(c)}
    ]


def test_a_withdrawn_or_other_kind_request_is_no_duplicate(world, no_enqueue):
    a = submit(world, "pedagogue_a", student_iin=student_iin(7))
    submit(world, "pedagogue_c", student_iin=student_iin(7), aid_kind="meals")
    user = world.user("pedagogue_a")
    services.aid_request_withdraw(scope=scope_for(user), actor=user, aid_request=a)
    c = submit(world, "pedagogue_c", student_iin=student_iin(7))
    body = _api(world, "pedagogue_c").get(f"/api/v1/aid-requests/{c.public_id}/").json()
    assert body["duplicates"] == []


def test_approval_needs_a_reason_while_another_school_has_one(world, no_enqueue):
    submit(world, "pedagogue_a", student_iin=student_iin(7))
    c = submit(world, "pedagogue_c", student_iin=student_iin(7))
    assert score(c) == Status.SCORED
    api = _api(world, "pedagogue_c")
    r = api.post(
        f"/api/v1/aid-requests/{c.public_id}/decision/",
        {"outcome": "approve", "amount_kzt": 10_000},
        format="json",
    )
    assert r.status_code == 400 and "reason" in r.json()
    assert world.school_a.name in str(r.json()["reason"])
    assert AidRequest.objects.get(pk=c.pk).status == Status.SCORED
    r = api.post(
        f"/api/v1/aid-requests/{c.public_id}/decision/",
        {"outcome": "approve", "amount_kzt": 10_000, "reason": "перевод: там заявка отозвана"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert AidRequest.objects.get(pk=c.pk).status == Status.DECIDED


def test_a_refused_request_is_no_duplicate_an_approved_one_is_and_kk_names_the_school(
    world, no_enqueue
):
    from django.utils import translation

    refused = submit(world, "pedagogue_a", student_iin=student_iin(9))
    score(refused)
    user = world.user("pedagogue_a")
    services.aid_request_decide(
        scope=scope_for(user), actor=user, aid_request=refused, outcome="reject",
        reason="нет оснований",
    )  # fmt: skip
    c = submit(world, "pedagogue_c", student_iin=student_iin(9))
    assert (
        _api(world, "pedagogue_c").get(f"/api/v1/aid-requests/{c.public_id}/").json()["duplicates"]
        == []
    )
    approved = submit(world, "pedagogue_a", student_iin=student_iin(10))
    score(approved)
    services.aid_request_decide(
        scope=scope_for(user), actor=user, aid_request=approved, outcome="approve",
        amount_kzt=500,
    )  # fmt: skip
    d = submit(world, "pedagogue_c", student_iin=student_iin(10))
    with translation.override("kk"):
        from portal.budgets.duplicates import aid_request_duplicates

        (dup,) = aid_request_duplicates(aid_request=d)
        assert dup.school_name == world.school_a.name_kk
        assert dup.request_code == request_code(approved)


def test_the_submission_answer_lists_the_duplicate_found_with_the_school(world, no_enqueue):
    """Issue 12: the 201 answer shows another school's open request for the child, looked
    up in the statement that loads the school (no statement of its own); a later look at the
    same object reads anew."""

    from portal.budgets.duplicates import aid_request_duplicates
    from tests.portal.factories import api_payload

    a = submit(world, "pedagogue_a", student_iin=student_iin(12))
    with recorded_statements() as statements:
        r = _api(world, "pedagogue_c").post(
            "/api/v1/aid-requests/", api_payload(student_iin=student_iin(12)), format="json"
        )
    assert r.status_code == 201, r.json()
    assert r.json()["duplicates"] == [
        {"school_name": world.school_a.name, "request_code": request_code(a)}
    ]
    lookups = [sql for sql in statements if "komek_open_duplicates" in sql]
    assert len(lookups) == 1 and '"schools_school"' in lookups[0]
    b = submit(world, "pedagogue_b", student_iin=student_iin(12))  # found A's and C's
    user = world.user("pedagogue_a")
    services.aid_request_withdraw(scope=scope_for(user), actor=user, aid_request=a)
    assert [dup.school_name for dup in aid_request_duplicates(aid_request=b)] == [
        world.school_c.name
    ]
