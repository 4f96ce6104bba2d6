"""The rollup kept in step by the services equals the rollup rebuilt from scratch."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from portal.requests import services
from portal.requests.models import AidRequest, Status
from portal.stats.models import StatsBucket
from schools.scope import scope_for
from tests.portal.factories import (
    FakeSource,
    iin_with_category,
    recorded_statements,
    score,
    student_iin,
)
from tests.portal.factories import stats_rollup as rollup
from tests.portal.factories import submit as submit_one

pytestmark = pytest.mark.django_db


def test_it_counts_a_submission_in_the_same_transaction(world, no_enqueue):
    req = submit_one(world)
    row = StatsBucket.objects.get(requests=1)
    assert (row.school_id, row.status, row.category, row.region_id) == (
        world.school_a.pk,
        Status.QUEUED,
        0,
        world.kar.pk,
    )
    score(req)
    assert StatsBucket.objects.get(requests=1).status == Status.SCORED
    assert StatsBucket.objects.filter(requests=1).get().category > 0


def test_a_submission_is_counted_without_reading_the_request_back(world, no_enqueue, monkeypatch):
    """Issue 12: a new request's bucket comes from the object and the submitter's scope."""
    from portal.stats import services as stats_services

    def no_read(request_id):  # noqa: ANN001, ANN202
        raise AssertionError("read back")

    monkeypatch.setattr(stats_services, "stats_row_for", no_read)
    submit_one(world, aid_kind="meals", amount_kzt=12_345)
    submit_one(world, "pedagogue_c", student_iin=student_iin(2), consent_method="")
    monkeypatch.undo()
    live = rollup()
    call_command("rebuild_stats", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert rollup() == live
    row = StatsBucket.objects.get(school_id=world.school_a.pk)
    assert (row.requests, row.amount_requested, row.aid_kind, row.status) == (
        1,
        12_345,
        "meals",
        Status.QUEUED,
    )


def test_a_new_request_is_counted_in_one_statement_for_school_and_district(world, no_enqueue):
    """Issue 12: the school row and the three district rows of a new request: one round trip
    (the school row first, the order every writer takes the row locks in)."""

    from portal.stats.models import StatsDistrictBucket

    with recorded_statements() as statements:
        submit_one(world, aid_kind="meals", amount_kzt=777)
    writes = [s for s in statements if "portal_stats" in s and "INSERT" in s]
    assert len(writes) == 1
    assert writes[0].index("INSERT INTO portal_statsbucket") > writes[0].index("WITH d AS")
    kinds = sorted(
        StatsDistrictBucket.objects.filter(district_id=world.school_a.district_id).values_list(
            "aid_kind", "ground", "requests", "amount_requested"
        )
    )
    assert len(kinds) == 3 and all(r[2:] == (1, 777) for r in kinds)
    call_command("rebuild_stats", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert StatsDistrictBucket.objects.filter(requests=1, amount_requested=777).count() == 3
    # small enough for psycopg to cache its conversion (measured: most of the rollup's CPU)
    from psycopg import _queries

    from portal.stats import services as stats_services

    assert len(stats_services._ONE_UPSERT_SQL.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(stats_services._ONE_NAMES) <= _queries.MAX_CACHED_STATEMENT_PARAMS


def test_it_equals_rebuild_after_random_transitions(world, no_enqueue):
    rng = random.Random(7)
    personas = ["pedagogue_a", "principal_a", "pedagogue_b", "pedagogue_c"]
    kinds = ["uniform", "supplies", "meals", "other"]
    grounds = ["asp", "below_subsistence", "orphan", "board_decision"]
    reqs = []
    for i in range(40):
        persona = rng.choice(personas)
        overrides = {
            "student_iin": student_iin(100 + i),
            "aid_kind": rng.choice(kinds),
            "ground": rng.choice(grounds),
            "amount_kzt": rng.randint(1000, 90_000),
        }
        if rng.random() < 0.1:
            overrides["consent_method"] = ""  # no consent → needs_review at once
        reqs.append((persona, submit_one(world, persona, **overrides)))
    for _round in range(3):
        for persona, req in reqs:
            req.refresh_from_db()
            user = world.user(persona)
            scope = scope_for(user)
            roll = rng.random()
            try:
                if req.status in (Status.QUEUED, Status.SCORING) and roll < 0.8:
                    score(req)
                elif req.status == Status.SCORED and roll < 0.5:
                    outcome = rng.choice(["approve", "reject"])
                    services.aid_request_decide(
                        scope=scope,
                        actor=user,
                        aid_request=req,
                        outcome=outcome,
                        amount_kzt=min(rng.randint(1000, 50_000), req.amount_kzt),
                        reason="Проверено комиссией",
                    )
                elif req.status in (Status.SCORED, Status.DECIDED) and roll < 0.6:
                    services.aid_request_contest(scope=scope, actor=user, aid_request=req)
                elif roll > 0.93:
                    services.aid_request_withdraw(scope=scope, actor=user, aid_request=req)
            except services.InvalidTransition:
                pass
    assert {r.status for _p, r in reqs} and AidRequest.objects.count() == 40
    statuses = set(AidRequest.objects.values_list("status", flat=True))
    assert {Status.SCORED, Status.DECIDED} <= statuses
    live = rollup()
    call_command("rebuild_stats", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert rollup() == live
    assert sum(v[0] for k, v in live.items() if k[0] == "StatsBucket") == 40
    assert sum(v[0] for k, v in live.items() if k[0] == "StatsDistrictBucket") == 3 * 40


def test_it_counts_needs_review_after_a_card_failure(world, no_enqueue):
    from scoring.sources import CardNotFound

    req = submit_one(world, student_iin=iin_with_category(1, 2, 3))
    services.aid_request_score(request_id=req.pk, source=FakeSource(CardNotFound()))
    assert StatsBucket.objects.get(requests=1).status == Status.NEEDS_REVIEW
    live = rollup()
    call_command("rebuild_stats", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert rollup() == live
