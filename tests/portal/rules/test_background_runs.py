"""One background-run model for the impact preview and the re-score batch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.rules import services
from portal.rules.models import BackgroundRun, ImpactPreview, RescoreBatch
from scoring.models import RuleSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def ruleset(db) -> RuleSet:
    return RuleSet.objects.get(version="KZ-2026.1")


def test_both_kinds_are_rows_of_one_table(ruleset):
    preview = ImpactPreview.objects.create(
        ruleset=ruleset, period_from=dt.date(2026, 1, 1), period_to=dt.date(2026, 2, 1)
    )
    batch = RescoreBatch.objects.create(ruleset=ruleset)
    assert ImpactPreview._meta.db_table == RescoreBatch._meta.db_table == "portal_backgroundrun"
    assert {r.kind for r in BackgroundRun.objects.all()} == {"impact_preview", "rescore"}
    assert list(ImpactPreview.objects.all()) == [preview]
    assert list(RescoreBatch.objects.all()) == [batch]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT to_regclass('scoring_impactpreview'), to_regclass('portal_rescorebatch')"
        )
        assert cur.fetchone() == (None, None)


def test_a_run_knows_its_time_limit_from_settings(ruleset):
    preview = ImpactPreview.objects.create(ruleset=ruleset, status="running")
    batch = RescoreBatch.objects.create(ruleset=ruleset, status="running")
    limits = settings.CELERY_TASK_TIME_LIMITS
    assert preview.time_limit.total_seconds() == limits["portal.rules_impact_preview"][1]
    assert batch.time_limit.total_seconds() == limits["portal.rules_rescore_open_requests"][1]
    now = timezone.now()
    preview.started_at = now - preview.time_limit + dt.timedelta(seconds=5)
    assert not preview.is_dead(now)
    preview.started_at = now - preview.time_limit - dt.timedelta(seconds=5)
    assert preview.is_dead(now)


def test_a_finished_run_is_left_alone_and_a_running_rescore_resumes(ruleset):
    done = RescoreBatch.objects.create(ruleset=ruleset, status="done", total=3, processed=3)
    assert services.rules_rescore_run(batch_id=done.pk).processed == 3
    redelivered = RescoreBatch.objects.create(
        ruleset=ruleset, status="running", started_at=timezone.now()
    )
    assert services.rules_rescore_run(batch_id=redelivered.pk).status == "done"


def test_the_rescore_keeps_one_active_batch_per_ruleset(ruleset):
    from django.db import IntegrityError, transaction

    RescoreBatch.objects.create(ruleset=ruleset)
    ImpactPreview.objects.create(ruleset=ruleset)  # another kind: no conflict
    with pytest.raises(IntegrityError), transaction.atomic():
        RescoreBatch.objects.create(ruleset=ruleset, status="running")
