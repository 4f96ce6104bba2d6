"""Retention on seeded data: exactly what the policy says goes, everything else stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.notices.models import Notice
from portal.privacy.models import RetentionErasure, RetentionHold
from portal.privacy.services import retention_hold_place, retention_hold_release, retention_run
from portal.requests import services
from portal.requests.models import AidRequest
from schools.scope import scope_for
from scoring.models import Assessment
from scoring.services import ERASED_CARD, assessment_cards_erase_for_retention
from tests.portal.factories import score, stats_rollup, student_iin, submit

pytestmark = pytest.mark.django_db

FAMILY_FIELDS = (
    "student_iin",
    "guardian_iin",
    "student_iin_hmac",
    "guardian_iin_hmac",
    "student_full_name",
    "guardian_full_name",
    "guardian_phone",
    "guardian_email",
    "comment",
    "consent_reference",
)


def _request(world, serial: int, outcome: str | None, days_ago: int) -> AidRequest:
    req = submit(
        world,
        student_iin=student_iin(serial),
        guardian_email=f"family{serial}@example.kz",
        comment="семья многодетная",
    )
    if outcome is not None:
        score(req)
        user = world.user("pedagogue_a")
        if outcome == "withdraw":
            services.aid_request_withdraw(scope=scope_for(user), actor=user, aid_request=req)
        else:
            kwargs = {"amount_kzt": 1000} if outcome == "approve" else {}
            services.aid_request_decide(
                scope=scope_for(user),
                actor=user,
                aid_request=req,
                outcome=outcome,
                reason="Проверено",
                **kwargs,
            )
    AidRequest.objects.filter(pk=req.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    req.refresh_from_db()
    return req


def _snapshot(req: AidRequest) -> dict:
    req.refresh_from_db()
    return {
        "request": {f: getattr(req, f) for f in FAMILY_FIELDS},
        "cards": [s.assessment.card for s in req.scorings.select_related("assessment")],
        "notices": list(req.notices.values_list("recipient", "body")),
    }


def test_it_erases_exactly_what_the_policy_says(world, no_enqueue, settings):
    settings.RETENTION_APPROVED_DAYS = 100
    settings.RETENTION_CLOSED_DAYS = 30
    seeded = {
        "approved_old": _request(world, 1, "approve", 200),  # goes
        "approved_recent": _request(world, 2, "approve", 50),  # stays: 50 < 100
        "rejected_old": _request(world, 3, "reject", 50),  # goes: 50 > 30
        "withdrawn_old": _request(world, 4, "withdraw", 50),  # goes
        "rejected_held": _request(world, 5, "reject", 50),  # stays: held
        "rejected_recent": _request(world, 6, "reject", 10),  # stays: 10 < 30
        "open_old": _request(world, 7, None, 400),  # stays: never closed
    }
    auditor = world.user("auditor")
    retention_hold_place(
        scope=scope_for(auditor),
        actor=auditor,
        request=seeded["rejected_held"],
        reason="проверка прокуратуры",
    )
    before = {k: _snapshot(r) for k, r in seeded.items()}
    rollup_before = stats_rollup()
    results_before = {
        a.pk: (a.category, a.card_sha256, a.trace, a.markers) for a in Assessment.objects.all()
    }
    audit_before = AuditEvent.objects.count()

    dry = retention_run(dry_run=True)
    assert (dry.requests_approved, dry.requests_closed, dry.held) == (1, 2, 1)
    gone = {"approved_old", "rejected_old", "withdrawn_old"}
    gone_notices = Notice.objects.filter(request__in=[seeded[k] for k in gone])
    assert dry.assessments == 3 and dry.notices == gone_notices.count() > 0
    assert {k: _snapshot(r) for k, r in seeded.items()} == before  # dry run changed nothing
    assert not RetentionErasure.objects.exists()

    report = retention_run(dry_run=False)
    assert report.counts() == dry.counts()
    for key, req in seeded.items():
        after = _snapshot(req)
        if key in gone:
            r = after["request"]
            assert r["student_iin"] == "ERASED-S" and r["guardian_iin"] == "ERASED-G"
            assert r["student_full_name"] == r["guardian_full_name"] == "—"
            assert r["guardian_phone"] == r["guardian_email"] == r["comment"] == ""
            assert r["consent_reference"] == ""
            hexid = req.public_id.hex
            assert r["student_iin_hmac"] == f"erased-s-{hexid}"
            assert r["guardian_iin_hmac"] == f"erased-g-{hexid}"
            assert after["cards"] and all(c == ERASED_CARD for c in after["cards"])
            assert after["notices"] and set(after["notices"]) == {("", "")}
            assert RetentionErasure.objects.filter(request=req).exists()
        else:
            assert after == before[key], key
            assert not RetentionErasure.objects.filter(request=req).exists()
    # what stays: aggregates, results and hashes, the audit trail, the request's non-family data
    assert stats_rollup() == rollup_before
    for a in Assessment.objects.all():
        assert (a.category, a.card_sha256, a.trace, a.markers) == results_before[a.pk]
    assert AuditEvent.objects.count() == audit_before + 2  # one row per run, nothing deleted
    runs = AuditEvent.objects.filter(action="retention.run").order_by("pk")
    assert [e.detail["dry_run"] for e in runs] == [True, False]
    assert runs.last().detail["requests"] == 3
    for key in gone:
        req = seeded[key]
        req.refresh_from_db()
        assert req.status == before_status(key) and req.amount_kzt == 50851

    # a second run finds nothing more; releasing the hold lets the held request go
    assert retention_run(dry_run=True).requests == 0
    hold = RetentionHold.objects.get()
    retention_hold_release(
        scope=scope_for(auditor), actor=auditor, hold=hold, reason="проверка окончена"
    )
    assert retention_run(dry_run=False).requests == 1
    assert _snapshot(seeded["rejected_held"])["request"]["student_iin"] == "ERASED-S"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"retention.hold_place", "retention.hold_release"} <= actions


def before_status(key: str) -> str:
    return {"approved_old": "decided", "rejected_old": "decided", "withdrawn_old": "withdrawn"}[key]


def test_the_command_reports_counts_and_no_identifiers(world, no_enqueue, settings, capsys):
    settings.RETENTION_CLOSED_DAYS = 30
    req = _request(world, 3, "reject", 50)
    call_command("retention", "--dry-run")
    out = capsys.readouterr().out
    assert "would erase 1 requests" in out
    assert req.student_iin not in out and "Ахметов" not in out
    req.refresh_from_db()
    assert req.student_iin == student_iin(3)
    call_command("retention")
    assert "erased 1 requests" in capsys.readouterr().out
    req.refresh_from_db()
    assert req.student_iin == "ERASED-S"


def test_only_the_named_path_may_change_an_assessment(world, no_enqueue):
    req = _request(world, 1, "approve", 1)
    assessment = req.scorings.get().assessment
    card = assessment.card
    # the model refuses
    with pytest.raises(ValidationError):
        assessment.save()
    # the trigger refuses a raw UPDATE of the card, of another column, and a DELETE
    for sql in (
        "UPDATE scoring_assessment SET card = '{\"erased\": true}'::jsonb WHERE id = %s",
        "UPDATE scoring_assessment SET category = category WHERE id = %s",
        "DELETE FROM scoring_assessment WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [assessment.pk])
    # even with the erasure setting on, only card → {"erased": true} and nothing else passes
    for sql in (
        "UPDATE scoring_assessment SET card = '{\"x\": 1}'::jsonb WHERE id = %s",
        "UPDATE scoring_assessment SET card = '{\"erased\": true}'::jsonb, "
        "card_sha256 = repeat('0', 64) WHERE id = %s",
        "DELETE FROM scoring_assessment WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT set_config('komek.assessment_card_erasure', 'on', true)")
            cur.execute(sql, [assessment.pk])
    assessment.refresh_from_db()
    assert assessment.card == card
    # the setting does not outlive the erasure service
    assert assessment_cards_erase_for_retention(assessment_ids=[assessment.pk]) == 1
    assessment.refresh_from_db()
    assert assessment.card == ERASED_CARD
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(current_setting('komek.assessment_card_erasure', true), '')")
        assert cur.fetchone()[0] == ""


def test_only_auditors_place_holds_and_a_reason_is_required(world, no_enqueue):
    from django.core.exceptions import PermissionDenied

    req = _request(world, 1, "approve", 1)
    ped = world.user("pedagogue_a")
    with pytest.raises(PermissionDenied):
        retention_hold_place(scope=scope_for(ped), actor=ped, request=req, reason="x")
    auditor = world.user("auditor")
    with pytest.raises(ValidationError) as err:
        retention_hold_place(scope=scope_for(auditor), actor=auditor, request=req, reason="  ")
    assert "reason" in err.value.message_dict
    assert not RetentionHold.objects.exists()


def test_the_daily_beat_task_runs_the_retention(world, no_enqueue, settings):
    from portal.privacy.tasks import privacy_retention_run

    assert settings.CELERY_BEAT_SCHEDULE["privacy-retention-run"]["task"] == (
        "portal.privacy_retention_run"
    )
    settings.RETENTION_CLOSED_DAYS = 30
    _request(world, 3, "reject", 50)
    assert privacy_retention_run.apply().get()["requests"] == 1
    event = AuditEvent.objects.filter(action="retention.run").get()
    assert event.detail["dry_run"] is False and event.detail["requests"] == 1


def test_it_erases_an_appeals_words_and_files_and_never_one_under_review(
    world, no_enqueue, settings, tmp_path
):
    from portal.appeals.models import Appeal
    from portal.appeals.services import appeal_file
    from tests.portal.appeals.helpers import png_file

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RETENTION_CLOSED_DAYS = 30
    req = _request(world, 1, "reject", 0)
    user = world.user("pedagogue_a")
    appeal = appeal_file(
        scope=scope_for(user), actor=user, aid_request=req, reason="Доводы", files=[png_file()]
    )
    AidRequest.objects.filter(pk=req.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(days=50)
    )
    from portal.letters.models import Letter

    Letter.objects.filter(request=req).update(
        appeal_until=timezone.localdate() - dt.timedelta(days=1)
    )
    assert retention_run(dry_run=True).requests == 0  # under appeal: held
    Appeal.objects.filter(pk=appeal.pk).update(
        status="decided",
        outcome="upheld",
        decided_by=world.user("district_reviewer"),
        decided_at=timezone.now(),
        outcome_note="Оставлено",
    )
    assert retention_run(dry_run=False).requests == 1
    appeal.refresh_from_db()
    assert appeal.reason == appeal.outcome_note == "" and appeal.disputed == []
    att = appeal.attachments.get()
    assert att.file.name == "" and att.original_name == ""
    assert not [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
