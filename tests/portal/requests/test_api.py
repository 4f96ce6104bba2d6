"""The REST API: create, list, detail, decision, contest, withdraw; scope and roles; tokens."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from portal.audit.models import AuditEvent
from portal.requests.models import AidRequest, Status
from tests.portal.factories import (
    api_payload,
    iin_with_category,
    recorded_statements,
    score,
    student_iin,
    submit,
)

pytestmark = pytest.mark.django_db
LIST = "/api/v1/aid-requests/"


@pytest.fixture
def api_for(world):
    def make(persona: str) -> APIClient:
        c = APIClient()
        c.force_authenticate(world.user(persona))
        return c

    return make


def test_it_creates_a_request_and_enqueues_it(api_for, no_enqueue):
    r = api_for("pedagogue_a").post(LIST, api_payload(), format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["status"] == "queued" and body["assessment"] is None
    req = AidRequest.objects.get(public_id=body["id"])
    assert no_enqueue == [req.pk]


def test_the_201_answer_is_the_detail_without_reading_what_cannot_exist_yet(api_for, no_enqueue):
    """Issue 12: the submission's answer equals the detail read afterwards, and it does not
    query scorings, decisions, letters or appeals of a request created a moment ago, nor
    read back the notices it has just written."""

    from portal.appeals.models import Appeal
    from portal.letters.models import Letter
    from portal.requests.models import AidRequestScoring, Decision

    c = api_for("pedagogue_a")
    with recorded_statements() as statements:
        r = c.post(LIST, api_payload(), format="json")
    assert r.status_code == 201, r.json()
    created = r.json()
    shown = c.get(f"{LIST}{created['id']}/").json()
    assert created == shown
    assert any(sql.startswith('INSERT INTO "portal_aidrequest"') for sql in statements)
    from portal.notices.models import Notice

    for model in (AidRequestScoring, Decision, Letter, Appeal, Notice):  # (the duplicate lookup's
        # subquery on other schools' decisions is not a read of this request's)
        assert not [
            sql for sql in statements if sql.startswith(f'SELECT "{model._meta.db_table}".')
        ], model


def test_it_names_the_bad_field(api_for, no_enqueue):
    r = api_for("pedagogue_a").post(
        LIST, api_payload(student_iin="123456789012", academic_year="2026-2026"), format="json"
    )
    assert r.status_code == 400
    assert set(r.json()) == {"student_iin", "academic_year"}


def test_it_refuses_a_duplicate_with_a_link(api_for, no_enqueue):
    c = api_for("pedagogue_a")
    first = c.post(LIST, api_payload(), format="json").json()
    r = c.post(LIST, api_payload(), format="json")
    assert r.status_code == 409
    assert r.json()["existing"]["id"] == first["id"]


def test_it_lets_only_school_staff_create(api_for, no_enqueue):
    for persona, code in {"auditor": 403, "region_analyst": 403, "norole": 403}.items():
        assert api_for(persona).post(LIST, api_payload(), format="json").status_code == code


def test_it_lists_only_the_scope_with_filters(world, api_for, no_enqueue):
    submit(world)
    submit(world, student_iin=student_iin(2), aid_kind="meals")
    submit(world, "pedagogue_c", student_iin=student_iin(3))
    r = api_for("pedagogue_a").get(LIST)
    assert r.json()["count"] == 2
    assert api_for("pedagogue_a").get(LIST, {"aid_kind": "meals"}).json()["count"] == 1
    assert api_for("pedagogue_c").get(LIST).json()["count"] == 1
    assert api_for("auditor").get(LIST).json()["count"] == 3
    assert api_for("region_analyst").get(LIST).status_code == 403
    assert AuditEvent.objects.filter(action="aid_request.list_view").count() == 4


def test_it_shows_the_assessment_and_recommendation(world, api_for, no_enqueue):
    req = submit(world, student_iin=iin_with_category(6))
    score(req)
    r = api_for("pedagogue_a").get(f"{LIST}{req.public_id}/")
    body = r.json()
    assert body["assessment"]["category"] == 6 and body["assessment"]["high_welfare"] is True
    assert body["assessment"]["markers"] and body["assessment"]["rule_set"]
    assert body["recommendation"]["code"] == "exclude"
    assert AuditEvent.objects.filter(
        action="aid_request.view", object_id=str(req.public_id)
    ).exists()


def test_it_hides_other_schools_and_family_data_from_analysts(world, api_for, no_enqueue):
    req = submit(world)
    url = f"{LIST}{req.public_id}/"
    assert api_for("pedagogue_b").get(url).status_code == 404
    assert api_for("pedagogue_c").get(url).status_code == 404
    for persona in ("region_analyst", "district_analyst", "ministry_analyst"):
        r = api_for(persona).get(url)
        assert r.status_code == 403 and "student_iin" not in r.json()
    for action in ("decision", "contest", "withdraw"):
        assert api_for("pedagogue_c").post(f"{url}{action}/", {}).status_code == 404
        assert api_for("region_analyst").post(f"{url}{action}/", {}).status_code == 403
        assert api_for("auditor").post(f"{url}{action}/", {}).status_code == 403


def test_it_decides_contests_and_withdraws(world, api_for, no_enqueue):
    req = submit(world, student_iin=iin_with_category(6))
    score(req)
    c = api_for("pedagogue_a")
    url = f"{LIST}{req.public_id}/"
    assert c.get(url).json()["actions"] == ["decide", "contest", "withdraw"]
    r = c.post(f"{url}contest/")
    assert r.status_code == 202 and r.json()["status"] == "queued" and r.json()["attempt"] == 2
    assert r.json()["actions"] == ["withdraw"]
    score(req)
    r = c.post(f"{url}decision/", {"outcome": "approve", "amount_kzt": 40000}, format="json")
    assert r.status_code == 400 and "reason" in r.json()
    r = c.post(
        f"{url}decision/",
        {"outcome": "approve", "amount_kzt": 40000, "reason": "ЧС"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["decision"]["against_recommendation"] is True
    assert r.json()["decision"]["signature"]["status"] == "pending"  # against: a principal signs
    assert r.json()["status"] == "decided"
    assert r.json()["actions"] == ["withdraw"]
    # A contest does not re-open a decision; an unpaid one may be withdrawn.
    r = c.post(f"{url}contest/")
    assert r.status_code == 409 and r.json()["code"] == "conflict", r.json()
    assert c.get(url).json()["status"] == Status.DECIDED
    r = c.post(f"{url}withdraw/")
    assert r.status_code == 200 and r.json()["status"] == Status.WITHDRAWN


def test_it_withdraws_a_scored_request(world, api_for, no_enqueue):
    req = submit(world)
    score(req)
    r = api_for("pedagogue_a").post(f"{LIST}{req.public_id}/withdraw/")
    assert r.status_code == 200 and r.json()["status"] == Status.WITHDRAWN
    assert r.json()["reason"]["code"] == "withdrawn_by_school"


def test_it_accepts_a_token_from_the_command(world, no_enqueue):
    out = io.StringIO()
    call_command("api_token", "pedagogue_a", stdout=out)
    token = out.getvalue().strip()
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert c.get(LIST).status_code == 200
    assert c.post(LIST, api_payload(), format="json").status_code == 201
    assert APIClient().get(LIST).status_code == 403


def test_it_serves_the_schema_and_docs(client):
    r = client.get("/api/v1/schema/")
    assert r.status_code == 200 and b"/api/v1/aid-requests/" in r.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


def test_the_detail_serializer_builds_its_model_fields_once_and_shares_none(world, no_enqueue):
    from unittest import mock

    from rest_framework import serializers as drf

    from portal.requests.api import serializers as s

    a, b = submit(world), submit(world, student_iin=student_iin(2))
    s.AidRequestDetailSerializer.__dict__.get("_built_fields") and delattr(
        s.AidRequestDetailSerializer, "_built_fields"
    )
    with mock.patch.object(
        drf.ModelSerializer,
        "build_field",
        autospec=True,
        side_effect=drf.ModelSerializer.build_field,
    ) as build:
        first = s.AidRequestDetailSerializer(a)
        one = first.fields
        built = build.call_count
        second = s.AidRequestDetailSerializer(b)
        two = second.fields
    assert built > 0 and build.call_count == built  # the second instance built nothing
    assert one["grade"] is not two["grade"] and one["grade"].parent is first
    assert two["grade"].parent is second


def test_the_create_serializers_fields_are_copies_of_their_own():
    """Issue 12: the create serializer's fields are built once per class and copied shallowly
    per instance; two instances validate independently."""
    from rest_framework import serializers as drf

    from portal.requests.api import serializers as s

    good = s.AidRequestCreateSerializer(data=api_payload())
    bad = s.AidRequestCreateSerializer(
        data=api_payload(grade=99, consent={"method": "egov_sms"}, student_iin="1")
    )
    assert good.is_valid(), good.errors
    assert not bad.is_valid()
    assert {"grade", "consent", "student_iin"} <= set(bad.errors)
    assert set(bad.errors["consent"]) == {"reference", "given_on", "valid_until"}
    assert good.is_valid() and not good.errors  # nothing of the bad one leaked in
    for name in ("grade", "consent", "student_iin"):
        assert good.fields[name] is not bad.fields[name]
        assert good.fields[name].parent is good and bad.fields[name].parent is bad
    assert isinstance(good.fields["consent"], drf.Serializer)
    assert good.fields["consent"].fields["method"] is not bad.fields["consent"].fields["method"]
    prototypes = s.AidRequestCreateSerializer.__dict__["_built_fields"]
    assert all(getattr(f, "parent", None) is None for f in prototypes.values())


@pytest.mark.django_db(transaction=True)
def test_a_submission_takes_no_savepoint_and_a_duplicate_is_still_refused(api_for, no_enqueue):
    """Issue 12: outside a caller's transaction the submission is one transaction with no
    savepoint around its INSERT; the unique index's refusal rolls it back and the answer is
    the 409 with the existing request, leaving nothing half-saved."""

    from portal.notices.models import Notice

    c = api_for("pedagogue_a")
    with recorded_statements() as statements:
        first = c.post(LIST, api_payload(), format="json")
    assert first.status_code == 201, first.json()
    assert not [s for s in statements if "SAVEPOINT" in s.upper()], statements
    notices = Notice.objects.count()
    again = c.post(LIST, api_payload(), format="json")
    assert again.status_code == 409 and again.json()["existing"]["id"] == first.json()["id"]
    assert AidRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="aid_request.submit").count() == 1
    assert Notice.objects.count() == notices  # the refused one wrote nothing
