"""seed_demo on a small world (scored over HTTP by the simulator) and pilot_report: matches
when the data agree, mismatches when they differ; a re-run does not duplicate."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import pytest
from django.core.management import call_command

from portal.demo.pilot import pilot_cohort
from portal.requests import services
from portal.requests.models import AidRequest, Status
from schools.models import Role
from schools.scope import scope_for
from schools.services import staff_member_create
from tests.scoring.conftest import delete_keys

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SMALL = {"requests": 120, "high_welfare": "KAR=2,SHY=3"}


def report(**kw) -> dict:
    out = io.StringIO()
    call_command("pilot_report", "--json", stdout=out, **kw)
    return json.loads(out.getvalue())


@pytest.fixture
def simulator(live_server, settings):
    prefix = f"test:h7:{uuid.uuid4().hex[:10]}:"
    settings.FAMILY_CARD_SIM_REDIS_PREFIX = prefix + "sim:"
    settings.FAMILY_CARD_SIM_UNKNOWN_PERMILLE = 0
    settings.FAMILY_CARD_URL = live_server.url + "/familycard-sim"
    name = "familycard:" + hashlib.sha256(settings.FAMILY_CARD_URL.encode()).hexdigest()[:12]
    delete_keys(f"komek:familycard:circuit:{name}")
    yield
    delete_keys(prefix)


def test_it_seeds_scores_and_reports_the_pilot_figures(simulator):
    out = io.StringIO()
    call_command("seed_demo", workers=0, stdout=out, **SMALL)
    assert "оценено 120/120" in out.getvalue()
    assert AidRequest.objects.filter(status=Status.SCORED).count() == 120

    got = report(**SMALL)
    assert all(m["match"] for m in got["metrics"]), got
    metrics = {m["name"]: m["portal"] for m in got["metrics"]}
    assert metrics == {
        "schools_total": 317,
        "schools_kar": 202,
        "schools_shy": 115,
        "requests_reviewed": 120,
        "high_welfare_total": 5,
        "high_welfare_kar": 2,
        "high_welfare_shy": 3,
    }
    assert sum(got["categories"].values()) == 120 and got["categories"]["6"] == 5

    assert got["cohort_requests"] == 120 and got["other_requests"] == 0

    # Issue 16: a request typed by hand while the demo seeds (as its banner invites) is
    # counted apart; the comparison still agrees and says how many other requests there are.
    from tests.portal.factories import request_data, score

    school = AidRequest.objects.first().school
    hand = staff_member_create(
        username="hand_typed", full_name="Педагог вручную", email="hand@test.kz",
        role=Role.PEDAGOGUE, unit_kwargs={"school": school},
    ).user  # fmt: skip
    typed = services.aid_request_submit(
        scope=scope_for(hand), actor=hand, data=request_data(), enqueue=False
    )
    assert score(typed) == Status.SCORED  # scored like any other, so the rollup counts it
    with_hand = report(**SMALL)
    assert all(m["match"] for m in with_hand["metrics"]), with_hand
    assert with_hand["other_requests"] == 1 and with_hand["cohort_requests"] == 120
    text = io.StringIO()
    call_command("pilot_report", stdout=text, **SMALL)
    assert "Других заявок в базе (введены вручную и т. п.): 1" in text.getvalue()
    assert "Все показатели совпадают." in text.getvalue()

    # The published pilot figures do not match this small world.
    published = {m["name"]: m for m in report()["metrics"]}
    assert not published["requests_reviewed"]["match"]
    assert published["schools_total"]["match"]

    # Re-running continues and duplicates nothing.
    call_command("seed_demo", workers=0, stdout=io.StringIO(), **SMALL)
    assert AidRequest.objects.count() == 120 + 1

    # Data that differ: a flagged request withdrawn is no longer "reviewed".
    flagged = pilot_cohort().filter(scorings__assessment__category=6).first()
    staff = flagged.school.staff.select_related("user").first().user
    services.aid_request_withdraw(scope=scope_for(staff), actor=staff, aid_request=flagged)
    bad = {m["name"]: m for m in report(**SMALL)["metrics"]}
    assert not bad["high_welfare_total"]["match"] and not bad["requests_reviewed"]["match"]
    text = io.StringIO()
    call_command("pilot_report", stdout=text, **SMALL)
    assert "Есть расхождения." in text.getvalue()
