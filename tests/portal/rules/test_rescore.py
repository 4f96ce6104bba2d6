"""Re-scoring the open requests with a newly published rule set: a batch with progress, one new
linked assessment per request (frozen card, no card-service call), the statistics rollup kept in
step, idempotent per (request, rule set), and who may start it."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.requests import services as portal_services
from portal.requests.models import AidRequest, AidRequestScoring, Status
from portal.rules import services
from portal.rules.models import RescoreBatch
from portal.stats.models import KEY_FIELDS
from schools.scope import scope_for
from scoring import services as scoring_services
from scoring.models import RuleSet
from tests.portal.factories import (
    iin_with_category,
    score,
    stats_rollup,
    submit,
)

pytestmark = pytest.mark.django_db


def publish_new_version(version: str = "KZ-2027.9") -> RuleSet:
    """A published rule set whose income thresholds differ from KZ-2026.1."""
    doc = json.loads(json.dumps(RuleSet.objects.get(version="KZ-2026.1").document))
    doc["version"] = version
    doc["bands"][0]["income_ratio_below"] = "1.5"
    doc["bands"][1]["income_ratio_below"] = "1.9"
    draft = scoring_services.ruleset_import(document=doc)
    return scoring_services.ruleset_publish(ruleset=draft, effective_from=timezone.localdate())


def latest(req: AidRequest) -> AidRequestScoring:
    return AidRequestScoring.objects.filter(request=req).order_by("-attempt").first()


@pytest.fixture
def requests_(world, no_enqueue, monkeypatch):
    """Three open (scored) requests, one decided, one withdrawn, one still queued."""
    cat2, cat3, cat5 = iin_with_category(2), iin_with_category(3), iin_with_category(5)
    open_ = [submit(world, student_iin=iin) for iin in (cat2, cat3, cat5)]
    decided = submit(world, student_iin=cat2, aid_kind="supplies")
    withdrawn = submit(world, student_iin=cat3, aid_kind="supplies")
    queued = submit(world, student_iin=cat5, aid_kind="supplies")
    for req in (*open_, decided, withdrawn):
        assert score(req) == Status.SCORED
    user = world.user("pedagogue_a")
    scope = scope_for(user)
    portal_services.aid_request_decide(
        scope=scope, actor=user, aid_request=decided, outcome="reject", reason="Проверено"
    )
    portal_services.aid_request_withdraw(scope=scope, actor=user, aid_request=withdrawn)

    def no_card_service():
        raise AssertionError("re-scoring must not call the card service")

    monkeypatch.setattr("scoring.sources.get_card_source", no_card_service)
    return {"open": open_, "decided": decided, "withdrawn": withdrawn, "queued": queued}


def start_and_run(world, ruleset: RuleSet) -> RescoreBatch:
    admin = world.user("rules_admin")
    batch = services.rules_rescore_start(scope=scope_for(admin), ruleset=ruleset, actor=admin)
    return services.rules_rescore_run(batch_id=batch.pk, chunk_size=2)


def test_it_rescores_open_requests_as_new_linked_assessments(
    world, requests_, django_capture_on_commit_callbacks
):
    new = publish_new_version()
    before = {r.pk: latest(r).assessment for r in requests_["open"]}
    expected = {
        pk: scoring_services.score_card_document(card_doc=a.card, ruleset=new).category
        for pk, a in before.items()
    }
    admin = world.user("rules_admin")
    with django_capture_on_commit_callbacks() as callbacks:
        batch = services.rules_rescore_start(scope=scope_for(admin), ruleset=new, actor=admin)
    assert len(callbacks) == 1  # the Celery task is enqueued on commit
    assert batch.status == RescoreBatch.Status.PENDING and batch.started_by == admin
    batch = services.rules_rescore_run(batch_id=batch.pk, chunk_size=2)

    assert (batch.status, batch.total, batch.done, batch.rescored) == ("done", 3, 3, 3)
    changed = sum(expected[pk] != old.category for pk, old in before.items())
    assert changed >= 1 and batch.changed == changed
    assert batch.progress == 100 and batch.is_finished
    for req in requests_["open"]:
        req.refresh_from_db()
        old = before[req.pk]
        row = latest(req)
        assert (req.status, req.attempt, row.attempt) == (Status.SCORED, 2, 2)
        assert row.assessment.previous_id == old.pk
        assert row.assessment.ruleset_id == new.pk and row.assessment.ruleset_version == new.version
        assert row.assessment.card == old.card and row.assessment.card_sha256 == old.card_sha256
        assert row.assessment.category == expected[req.pk]
    events = AuditEvent.objects.filter(action="aid_request.rescore")
    assert events.count() == 3
    for event in events:
        text = json.dumps(event.detail, ensure_ascii=False)
        for req in requests_["open"]:
            assert req.student_iin not in text and req.guardian_iin not in text
            assert req.student_full_name not in text and req.guardian_full_name not in text
        assert "income" not in text
        assert event.detail["batch"] == str(batch.public_id)
    assert AuditEvent.objects.filter(action="rules.rescore_start").count() == 1


def test_it_keeps_the_statistics_rollup_equal_to_a_rebuild(world, requests_):
    new = publish_new_version()
    start_and_run(world, new)
    live = stats_rollup()
    call_command("rebuild_stats", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert stats_rollup() == live
    cat, status = (1 + KEY_FIELDS.index(f) for f in ("category", "status"))
    categories = {k[cat] for k in live if k[0] == "StatsBucket" and k[status] == Status.SCORED}
    assert categories == {latest(r).assessment.category for r in requests_["open"]}


def test_it_is_idempotent_per_request_and_rule_set(world, requests_):
    new = publish_new_version()
    first = start_and_run(world, new)
    rows = AidRequestScoring.objects.count()
    second = start_and_run(world, new)
    assert (second.status, second.total, second.done, second.rescored, second.changed) == (
        "done",
        3,
        3,
        0,
        0,
    )
    assert first.rescored == 3 and AidRequestScoring.objects.count() == rows
    assert AuditEvent.objects.filter(action="aid_request.rescore").count() == 3


def test_it_leaves_decided_withdrawn_and_queued_requests_alone(world, requests_):
    snapshot = {}
    for key in ("decided", "withdrawn", "queued"):
        req = requests_[key]
        req.refresh_from_db()
        snapshot[key] = (req.status, req.attempt, req.scorings.count(), req.status_changed_at)
    start_and_run(world, publish_new_version())
    for key, before in snapshot.items():
        req = requests_[key]
        req.refresh_from_db()
        assert (req.status, req.attempt, req.scorings.count(), req.status_changed_at) == before


def test_it_refuses_drafts_other_roles_and_a_second_running_batch(world):
    admin = world.user("rules_admin")
    scope = scope_for(admin)
    new = publish_new_version()
    doc = {**new.document, "version": "KZ-DRAFT-X"}
    draft = scoring_services.ruleset_import(document=doc)
    with pytest.raises(ValidationError):
        services.rules_rescore_start(scope=scope, ruleset=draft, actor=admin)
    for persona in ("pedagogue_a", "region_analyst"):
        user = world.user(persona)
        with pytest.raises(PermissionDenied):
            services.rules_rescore_start(scope=scope_for(user), ruleset=new, actor=user)
    batch = services.rules_rescore_start(scope=scope, ruleset=new, actor=admin)
    with pytest.raises(ValidationError):
        services.rules_rescore_start(scope=scope, ruleset=new, actor=admin)
    services.rules_rescore_run(batch_id=batch.pk)
    services.rules_rescore_start(scope=scope, ruleset=new, actor=admin)  # finished: allowed


# --------------------------------------------------------------------------- pages


def test_it_offers_the_button_on_published_versions_only(client_for, world):
    new = publish_new_version()
    c = client_for("rules_admin")
    body = c.get(reverse("rules:ruleset-detail", kwargs={"public_id": new.public_id})).content
    body = body.decode()
    assert 'data-testid="rescore"' in body
    assert "Пересчитать открытые заявки по этой версии" in body
    assert "data-confirm=" in body
    draft = scoring_services.ruleset_import(document={**new.document, "version": "KZ-DRAFT-Y"})
    body = c.get(reverse("rules:ruleset-detail", kwargs={"public_id": draft.public_id}))
    assert 'data-testid="rescore"' not in body.content.decode()


def test_it_starts_a_batch_and_polls_its_progress(client_for, world, requests_):
    new = publish_new_version()
    c = client_for("rules_admin")
    url = reverse("rules:ruleset-rescore", kwargs={"public_id": new.public_id})
    r = c.post(url)
    assert r.status_code == 302
    assert r["Location"] == reverse("rules:ruleset-detail", kwargs={"public_id": new.public_id})
    batch = RescoreBatch.objects.get(ruleset=new)
    progress = reverse("rules:rescore-progress", kwargs={"public_id": batch.public_id})
    assert 'hx-trigger="every 1s"' in c.get(progress).content.decode()
    r = c.post(url, follow=True)  # a batch is already queued
    assert "уже идёт" in r.content.decode()
    assert RescoreBatch.objects.filter(ruleset=new).count() == 1
    services.rules_rescore_run(batch_id=batch.pk)
    r = c.get(progress, HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true"
    assert 'hx-trigger="every 1s"' not in r.content.decode()
    body = c.get(reverse("rules:ruleset-detail", kwargs={"public_id": new.public_id}))
    assert 'data-testid="rescore-progress" data-status="done"' in body.content.decode()


@pytest.mark.parametrize("persona", ["pedagogue_a", "region_analyst"])
def test_it_refuses_other_roles(client_for, world, persona):
    new = publish_new_version()
    url = reverse("rules:ruleset-rescore", kwargs={"public_id": new.public_id})
    assert client_for(persona).post(url).status_code == 403
    assert not RescoreBatch.objects.exists()
    batch = RescoreBatch.objects.create(ruleset=new, status="done")
    progress = reverse("rules:rescore-progress", kwargs={"public_id": batch.public_id})
    assert client_for(persona).get(progress).status_code == 403


def test_it_sends_anonymous_users_to_sign_in(client, world):
    new = publish_new_version()
    r = client.post(reverse("rules:ruleset-rescore", kwargs={"public_id": new.public_id}))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert not RescoreBatch.objects.exists()
