"""Decisions: at most the requested amount (service, model constraint, form); no default
outcome; decided is final (a contest applies to a scoring before a decision)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from portal.requests import services
from portal.requests.forms import DecisionForm
from portal.requests.models import AidRequest, Decision, Status
from schools.scope import scope_for
from tests.portal.factories import iin_with_category, score, submit

pytestmark = pytest.mark.django_db


def _who(world, persona: str = "pedagogue_a") -> dict:
    user = world.user(persona)
    return {"scope": scope_for(user), "actor": user}


@pytest.fixture
def scored(world, no_enqueue) -> AidRequest:
    req = submit(world, student_iin=iin_with_category(3, 4, 5), amount_kzt=20_000)
    assert score(req) == Status.SCORED
    return AidRequest.objects.get(pk=req.pk)


def test_it_refuses_to_approve_more_than_requested(world, scored):
    with pytest.raises(ValidationError) as exc:
        services.aid_request_decide(
            **_who(world), aid_request=scored, outcome="approve", amount_kzt=900_000
        )
    assert "20000" in exc.value.message_dict["amount_kzt"][0]
    scored.refresh_from_db()
    assert scored.status == Status.SCORED and not Decision.objects.exists()
    d = services.aid_request_decide(
        **_who(world), aid_request=scored, outcome="approve", amount_kzt=20_000
    )
    assert (d.amount_kzt, d.requested_amount_kzt) == (20_000, 20_000)


def test_the_database_refuses_an_approval_above_the_request(world, scored):
    d = Decision(
        request=scored,
        outcome="approve",
        amount_kzt=20_001,
        requested_amount_kzt=scored.amount_kzt,
        decided_by=world.user("pedagogue_a"),
    )
    with pytest.raises(ValidationError):
        d.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        d.save()


def test_the_form_has_no_default_outcome_and_caps_the_amount(world, scored):
    form = DecisionForm(requested_amount=20_000)
    assert form["outcome"].value() in (None, "")
    assert form["amount_kzt"].value() is None
    assert not DecisionForm({"amount_kzt": 100}, requested_amount=20_000).is_valid()
    too_much = DecisionForm({"outcome": "approve", "amount_kzt": 20_001}, requested_amount=20_000)
    assert not too_much.is_valid() and "amount_kzt" in too_much.errors
    ok = DecisionForm({"outcome": "approve", "amount_kzt": 20_000}, requested_amount=20_000)
    assert ok.is_valid()


def test_the_page_shows_no_preselected_outcome(world, scored, client_for):
    body = client_for("pedagogue_a").get(
        reverse("requests:aid-request-detail", args=[scored.public_id])
    )
    html = body.content.decode()
    assert 'data-testid="decision-form"' in html
    assert 'value="approve" selected' not in html and 'value="reject" selected' not in html
    assert 'name="amount_kzt" value=' not in html
    assert 'max="20000"' in html


def test_a_decided_request_cannot_be_contested_or_decided_again(world, scored, client_for):
    services.aid_request_decide(
        **_who(world), aid_request=scored, outcome="approve", amount_kzt=20_000
    )
    with pytest.raises(services.InvalidTransition):
        services.aid_request_contest(**_who(world), aid_request=scored)
    with pytest.raises(services.InvalidTransition):
        services.aid_request_decide(
            **_who(world, "principal_a"), aid_request=scored, outcome="approve", amount_kzt=1
        )
    assert Decision.objects.filter(request=scored).count() == 1
    c = client_for("pedagogue_a")
    detail = reverse("requests:aid-request-detail", args=[scored.public_id])
    page = c.get(detail).content.decode()
    for testid in ("contest", "decision-form", "resubmit"):
        assert f'data-testid="{testid}"' not in page
    assert 'data-testid="withdraw"' in page  # not paid yet: it may still be withdrawn
    r = c.post(reverse("requests:aid-request-contest", args=[scored.public_id]), follow=True)
    assert "недоступно" in r.content.decode()
    scored.refresh_from_db()
    assert scored.status == Status.DECIDED


def test_the_page_offers_what_the_table_allows(world, scored, client_for):
    c = client_for("pedagogue_a")
    page = c.get(reverse("requests:aid-request-detail", args=[scored.public_id])).content
    assert b'data-testid="decision-form"' in page and b'data-testid="contest"' in page
    assert b'data-testid="resubmit"' not in page
    auditor = client_for("auditor").get(
        reverse("requests:aid-request-detail", args=[scored.public_id])
    )
    assert b'data-testid="actions"' not in auditor.content
    assert b'data-testid="decision-form"' not in auditor.content
