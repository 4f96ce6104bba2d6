"""seed_demo on a small world (scored over HTTP by the simulator) and pilot_report: matches
when the data agree, mismatches when they differ; a re-run does not duplicate."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import pytest
from django.core.management import call_command

from portal.requests import services
from portal.requests.models import AidRequest, Status
from schools.scope import scope_for
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

    # The published pilot figures do not match this small world.
    published = {m["name"]: m for m in report()["metrics"]}
    assert not published["requests_reviewed"]["match"]
    assert published["schools_total"]["match"]

    # Re-running continues and duplicates nothing.
    call_command("seed_demo", workers=0, stdout=io.StringIO(), **SMALL)
    assert AidRequest.objects.count() == 120

    # Data that differ: a flagged request withdrawn is no longer "reviewed".
    flagged = AidRequest.objects.filter(scorings__assessment__category=6).first()
    staff = flagged.school.staff.select_related("user").first().user
    services.aid_request_withdraw(scope=scope_for(staff), actor=staff, aid_request=flagged)
    bad = {m["name"]: m for m in report(**SMALL)["metrics"]}
    assert not bad["high_welfare_total"]["match"] and not bad["requests_reviewed"]["match"]
    text = io.StringIO()
    call_command("pilot_report", stdout=text, **SMALL)
    assert "Есть расхождения." in text.getvalue()
