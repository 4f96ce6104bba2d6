"""Appeals: the school files within the period, the district's reviewer (never the decider)
decides — upheld, revised (new decision and letter, the old ones superseded, the budget
following) or re-scored from the corrected card — each step in the lifecycle's table,
audited, with the guardian told; bad input names its field and saves nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.appeals import rules, services
from portal.appeals.models import Appeal, AppealAttachment
from portal.audit.models import AuditEvent
from portal.budgets.models import Budget
from portal.letters.models import Letter
from portal.notices.models import Notice
from portal.requests import lifecycle
from portal.requests.models import Decision, Status
from schools.scope import scope_for
from tests.portal.appeals.helpers import decided, forged_pdf, pdf_file, png_file, salary_path


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _file(world, req, persona="pedagogue_a", **kw):
    user = world.user(persona)
    kw.setdefault("reason", "Отец семьи потерял работу в сентябре.")
    return services.appeal_file(scope=scope_for(user), actor=user, aid_request=req, **kw)


def _decide(world, appeal, persona="district_reviewer", **kw):
    user = world.user(persona)
    kw.setdefault("note", "Проверено по документам семьи.")
    return services.appeal_decide(scope=scope_for(user), actor=user, appeal=appeal, **kw)


def test_working_days_skip_weekends_and_fixed_holidays():
    friday = dt.date(2026, 12, 11)
    # Mon 14, Tue 15, (Wed 16 Independence Day), Thu 17 …
    assert rules.add_working_days(friday, 1) == dt.date(2026, 12, 14)
    assert rules.add_working_days(friday, 3) == dt.date(2026, 12, 17)
    # Jan 1, 2 are holidays; Jan 2, 2027 is a Saturday: Monday Jan 4 is the day off instead
    assert rules.add_working_days(friday, 15) == dt.date(2027, 1, 6)
    assert not rules.is_working_day(dt.date(2027, 3, 8))


def test_a_holiday_on_a_weekend_moves_the_day_off_and_kurban_ait_moves_with_the_year(settings):
    """The Labour Code's rule (art. 84 § 2): Nauryz 2026 on Sat 21 and Sun 22 March gives
    Tue 24 and Wed 25 off (Mon 23 is Nauryz itself); Victory Day on Sat 9 May 2026 gives Mon 11.
    Orthodox Christmas and Kurban ait (27 May 2026) never move. Announcements: settings."""
    day = dt.date
    assert [d.day for d in (day(2026, 3, k) for k in range(20, 27)) if rules.is_working_day(d)] == [
        20,
        26,
    ]
    assert not rules.is_working_day(day(2026, 5, 11))
    assert not rules.is_working_day(day(2026, 5, 27))  # Kurban ait, a Wednesday
    assert rules.is_working_day(day(2029, 1, 8))  # Jan 7, 2029 is a Sunday: nothing moves
    assert not rules.is_working_day(day(2026, 12, 16))
    settings.NON_WORKING_DAYS = frozenset({day(2027, 5, 17)})  # Kurban ait 2027, announced
    settings.WORKING_DAYS = frozenset({day(2026, 12, 19)})  # a Saturday worked instead
    assert not rules.is_working_day(day(2027, 5, 17))
    assert rules.is_working_day(day(2026, 12, 19))


def test_a_bad_date_in_the_day_off_settings_names_the_variable(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from portal import settings as portal_settings

    monkeypatch.setenv("NON_WORKING_DAYS", "2027-05-17,17.05.2027")
    with pytest.raises(ImproperlyConfigured, match="NON_WORKING_DAYS: '17.05.2027'"):
        portal_settings._dates("NON_WORKING_DAYS")


def test_the_school_files_and_the_reviewer_upholds(world, no_enqueue):
    req = decided(world)
    path, salary = salary_path(req)
    appeal = _file(
        world,
        req,
        disputed=[{"path": path, "claimed": salary + 1000}],
        files=[png_file(), pdf_file()],
    )
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN and appeal.school_id == world.school_a.pk
    assert appeal.disputed == [{"path": path, "current": salary, "claimed": salary + 1000}]
    assert appeal.answer_due == rules.add_working_days(timezone.localdate(), 15)
    kinds = sorted(appeal.attachments.values_list("content_type", flat=True))
    assert kinds == ["application/pdf", "image/png"]
    req.refresh_from_db()
    assert req.status == Status.DECIDED
    filed = AuditEvent.objects.get(action="appeal.file")
    assert filed.detail["from"] == filed.detail["to"] == "decided"
    assert filed.detail["disputed_fields"] == [path] and filed.detail["attachments"] == 2

    _decide(world, appeal, outcome="upheld")
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.DECIDED and appeal.outcome == "upheld"
    assert appeal.decided_by == world.user("district_reviewer")
    assert AuditEvent.objects.filter(action="appeal.uphold", object_id=str(req.public_id)).exists()
    sms = Notice.objects.get(request=req, event="appeal_decided", channel="sms")
    assert "ИИН" not in sms.body and req.student_iin not in sms.body
    assert Decision.objects.get(request=req).superseded_at is None


def test_revised_makes_a_new_decision_and_letter_and_moves_the_budget(
    world, no_enqueue, django_capture_on_commit_callbacks
):
    Budget.objects.create(
        school=world.school_a, academic_year="2026-2027", amount_kzt=100000, committed_kzt=0
    )
    with django_capture_on_commit_callbacks(execute=True):
        req = decided(world, outcome="approve")
    old = Decision.objects.get(request=req)
    old_letter = Letter.objects.get(request=req)
    assert Budget.objects.get().committed_kzt == 40000
    appeal = _file(world, req, reason="Сумма не покрывает форму и обувь.")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(world, appeal, outcome="revised", new_outcome="approve", amount_kzt=50851)
    old.refresh_from_db()
    new = Decision.objects.get(request=req, superseded_at__isnull=True)
    assert old.superseded_at is not None and new.pk != old.pk
    assert new.amount_kzt == 50851 and new.decided_by == world.user("district_reviewer")
    appeal.refresh_from_db()
    assert appeal.new_decision == new and appeal.outcome == "revised"
    assert Budget.objects.get().committed_kzt == 50851  # 40,000 released, 50,851 reserved
    old_letter.refresh_from_db()
    letter = Letter.objects.get(request=req, status="issued")
    assert letter.decision == new
    assert old_letter.status == "superseded" and old_letter.superseded_by == letter
    # the family hears of the appeal's outcome (not a second "decided")
    events = sorted(
        Notice.objects.filter(request=req, channel="sms").values_list("event", flat=True)
    )
    assert events == ["appeal_decided", "decided", "received"]
    # a decision made on appeal is not appealed again through the school
    req.refresh_from_db()
    assert "appeal" not in lifecycle.allowed_actions(req, scope_for(world.user("pedagogue_a")))


def test_rescored_scores_the_corrected_card_and_the_school_decides_again(
    world, no_enqueue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        req = decided(world, outcome="reject")
    path, salary = salary_path(req)
    old_assessment = req.decisions.get().assessment
    appeal = _file(world, req, disputed=[{"path": path, "claimed": salary + 1}])
    _decide(world, appeal, outcome="rescored")
    req.refresh_from_db()
    assert req.status == Status.SCORED and req.attempt == 2
    new_assessment = req.scorings.get(attempt=2).assessment
    assert new_assessment.previous == old_assessment
    assert new_assessment.card["members"][0]["incomes"]["salary"] == salary + 1
    assert Decision.objects.get(request=req).superseded_at is not None
    assert Letter.objects.get(request=req).status == "superseded"
    event = AuditEvent.objects.get(action="appeal.rescore")
    assert event.detail["to"] == "scored" and event.detail["corrected_fields"] == [path]
    # the school decides again: a new letter that supersedes the old one
    user = world.user("pedagogue_a")
    from portal.requests import services as request_services

    with django_capture_on_commit_callbacks(execute=True):
        decision = request_services.aid_request_decide(
            scope=scope_for(user), actor=user, aid_request=req, outcome="reject", reason="Снова"
        )
        if decision.awaits_signature:
            principal = world.user("principal_a")
            request_services.aid_request_sign(
                scope=scope_for(principal), actor=principal, aid_request=req
            )
    new_letter = Letter.objects.get(request=req, status="issued")
    assert Letter.objects.get(request=req, status="superseded").superseded_by == new_letter


def test_an_appeal_only_within_the_period_and_one_at_a_time(world, no_enqueue):
    req = decided(world)
    decision = req.decisions.get()
    Decision.objects.filter(pk=decision.pk).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    with pytest.raises(lifecycle.InvalidTransition, match="Срок обжалования истёк"):
        _file(world, req)
    Decision.objects.filter(pk=decision.pk).update(created_at=timezone.now())
    _file(world, req)
    with pytest.raises(lifecycle.InvalidTransition, match="уже на рассмотрении"):
        _file(world, req)
    assert Appeal.objects.count() == 1


def test_no_appeal_before_a_decision(world, no_enqueue):
    from tests.portal.factories import score, submit

    req = submit(world)
    score(req)
    with pytest.raises(lifecycle.InvalidTransition):
        _file(world, req)


def test_only_the_districts_reviewer_decides_and_never_twice(world, no_enqueue):
    req = decided(world)
    appeal = _file(world, req)
    for persona in ("pedagogue_a", "principal_a", "district_analyst", "auditor"):
        with pytest.raises(PermissionDenied):
            _decide(world, appeal, persona=persona, outcome="upheld")
    with pytest.raises(PermissionDenied):
        _decide(world, appeal, persona="district_reviewer_tem", outcome="upheld")
    _decide(world, appeal, outcome="upheld")
    with pytest.raises(lifecycle.InvalidTransition, match="уже рассмотрена"):
        _decide(world, appeal, outcome="revised", new_outcome="approve", amount_kzt=1)


def test_the_reviewer_is_never_the_decider(world, no_enqueue):
    req = decided(world)
    appeal = _file(world, req)
    Decision.objects.filter(pk=appeal.decision_id).update(
        decided_by=world.user("district_reviewer")
    )
    with pytest.raises(PermissionDenied, match="не тот, кто принял решение"):
        _decide(world, appeal, outcome="upheld")


@pytest.mark.parametrize(
    ("disputed", "field"),
    [
        ([{"path": "members[0].incomes.salry", "claimed": 1}], "disputed[0].path"),
        ([{"path": "members[0].iin", "claimed": "111111111111"}], "disputed[0].path"),
        ([{"path": "family_id", "claimed": "F-2"}], "disputed[0].path"),
        ([{"path": "members[0].incomes.salary", "claimed": "много"}], "disputed[0].claimed"),
        ([{"path": "members[0].incomes.salary", "claimed": -5}], "disputed[0].claimed"),
        ([{"path": "members[0].chronic_illness", "claimed": 3}], "disputed[0].claimed"),
        ([{"path": "members[0].employment", "claimed": "astronaut"}], "disputed[0].claimed"),
        ({"path": "x"}, "disputed"),
        ([{"claimed": 1}], "disputed[0]"),
    ],
)
def test_bad_disputed_fields_name_the_field_and_save_nothing(world, no_enqueue, disputed, field):
    req = decided(world)
    with pytest.raises(ValidationError) as exc:
        _file(world, req, disputed=disputed, files=[png_file()])
    assert field in exc.value.message_dict
    assert not Appeal.objects.exists() and not AppealAttachment.objects.exists()


def test_attachments_are_checked_by_content_and_size(world, no_enqueue, settings, _media):
    req = decided(world)
    with pytest.raises(ValidationError) as exc:
        _file(world, req, files=[png_file(), forged_pdf()])
    assert "virus.pdf" in " ".join(exc.value.message_dict["attachments"])
    settings.APPEAL_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError) as exc:
        _file(world, req, files=[png_file()])
    assert "attachments" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _file(world, req, reason="   ")
    assert "reason" in exc.value.message_dict
    assert not Appeal.objects.exists()
    assert not list(_media.rglob("*.*")) if _media.exists() else True


def test_files_written_for_a_refused_appeal_are_removed(world, no_enqueue, _media, monkeypatch):
    """The storage is not transactional: a failure after the files were written removes them."""
    req = decided(world)
    from portal.requests import lifecycle as lc

    original = lc.transition

    def failing(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("database went away")

    monkeypatch.setattr(lc, "transition", failing)
    with pytest.raises(RuntimeError):
        _file(world, req, files=[png_file()])
    assert not Appeal.objects.exists()
    assert not [p for p in _media.rglob("*") if p.is_file()]


def test_a_paid_decision_is_not_revised(world, no_enqueue):
    from portal.payments.models import Payment

    req = decided(world, outcome="approve")
    d = req.decisions.get()
    Payment.objects.create(decision=d, reference="KMK-T1", amount_kzt=40000, status="paid")
    appeal = _file(world, req)
    with pytest.raises(ValidationError, match="уже выплачены"):
        _decide(world, appeal, outcome="revised", new_outcome="approve", amount_kzt=50000)
    appeal.refresh_from_db()
    assert appeal.is_open and Decision.objects.get(pk=d.pk).superseded_at is None


def test_revised_needs_a_valid_new_decision(world, no_enqueue):
    req = decided(world)
    appeal = _file(world, req)
    with pytest.raises(ValidationError) as exc:
        _decide(world, appeal, outcome="revised", new_outcome="")
    assert "new_outcome" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _decide(world, appeal, outcome="revised", new_outcome="approve", amount_kzt=10**9)
    assert "amount_kzt" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _decide(world, appeal, outcome="upheld", note=" ")
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _decide(world, appeal, outcome="rescored")  # nothing disputed
    assert "outcome" in exc.value.message_dict
    appeal.refresh_from_db()
    assert appeal.is_open


def test_the_lifecycle_table_holds_the_appeal_steps():
    table = lifecycle.TABLE
    assert table[(Status.DECIDED, lifecycle.Action.APPEAL)].by == lifecycle.STAFF
    for action, target in (
        (lifecycle.Action.APPEAL_UPHOLD, Status.DECIDED),
        (lifecycle.Action.APPEAL_REVISE, Status.DECIDED),
        (lifecycle.Action.APPEAL_RESCORE, Status.SCORED),
    ):
        rule = table[(Status.DECIDED, action)]
        assert rule.by == lifecycle.REVIEWER and rule.targets == (target,)
