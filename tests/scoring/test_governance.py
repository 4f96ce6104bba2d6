"""Governed rule changes: drafts, golden cases, approval, impact preview and the publishing
gate (portal.rules.services), scheduled activation, and the diff."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.requests.models import AidRequest, AidRequestScoring
from portal.rules import services
from portal.rules.diff import flatten, ruleset_diff
from portal.rules.models import ImpactPreview
from schools.scope import scope_for
from scoring.card import CardError, parse_card, parse_trusted_card
from scoring.models import GoldenCase, RuleSet, RuleSetEvent
from scoring.ruleset import RuleSetError
from scoring.selectors import ruleset_in_force
from scoring.services import assessment_create
from tests.portal.factories import request_data, student_iin

EXAMPLES = Path(__file__).resolve().parents[2] / "scoring" / "data" / "examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def admins(world):
    a1, a2 = world.user("rules_admin"), world.user("rules_admin2")
    return (a1, scope_for(a1)), (a2, scope_for(a2))


@pytest.fixture
def draft(admins):
    (a1, s1), _ = admins
    source = RuleSet.objects.get(version="KZ-2026.1")
    return services.ruleset_draft_create(scope=s1, actor=a1, source=source, version="KZ-2027.1")


def harmless_change(doc: dict) -> dict:
    """A 2027 ПМ/МЗП and a changed threshold that no golden case depends on."""
    doc = json.loads(json.dumps(doc))
    doc["parameters"]["subsistence_minimum"]["2027"] = 55000
    doc["parameters"]["minimum_wage"]["2027"] = 90000
    doc["wealth_points"][1]["value"] = "3"  # land_plots ≥ 3 instead of 2
    return doc


def breaking_change(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc["high_welfare"]["markers"][0]["value"] = "3"  # housing_units ≥ 3: 06-two-homes fails
    return doc


def run_preview(draft, actor, scope) -> ImpactPreview:
    preview = services.impact_preview_start(scope=scope, actor=actor, ruleset=draft)
    return services.impact_preview_run(preview_id=preview.pk)


def ready_to_publish(draft, admins) -> RuleSet:
    (a1, s1), (a2, s2) = admins
    draft, _ = services.ruleset_draft_save(
        scope=s1, actor=a1, ruleset=draft, document=harmless_change(draft.document)
    )
    run_preview(draft, a1, s1)
    services.ruleset_approve(scope=s2, actor=a2, ruleset=draft)
    return draft


# --------------------------------------------------------------------------- data migration


def test_it_loads_the_worked_examples_as_golden_cases(db):
    expected = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
    cases = {c.name: c for c in GoldenCase.objects.filter(source="example")}
    assert set(cases) == set(expected)
    assert all(cases[n].expected_category == e["category"] for n, e in expected.items())


def test_it_builds_the_same_card_on_the_trusted_path(db):
    doc = example("06-two-homes")
    assert parse_trusted_card(doc) == parse_card(doc)


# --------------------------------------------------------------------------- drafts


def test_it_creates_a_draft_with_history_and_audit(draft, admins):
    (a1, _s1), _ = admins
    assert draft.status == "draft" and draft.created_by == a1
    assert draft.document["version"] == "KZ-2027.1"
    assert list(draft.events.values_list("action", flat=True)) == ["created"]
    assert AuditEvent.objects.filter(
        action="rules.draft_create", object_id=draft.public_id
    ).exists()


def test_it_refuses_a_taken_version_name(draft, admins):
    (a1, s1), _ = admins
    with pytest.raises(RuleSetError) as exc:
        services.ruleset_draft_create(scope=s1, actor=a1, source=draft, version="KZ-2027.1")
    assert "version.exists" in exc.value.codes


def test_it_refuses_drafts_to_other_roles(world, draft):
    pedagogue = world.user("pedagogue_a")
    with pytest.raises(PermissionDenied):
        services.ruleset_draft_save(
            scope=scope_for(pedagogue), actor=pedagogue, ruleset=draft, document=draft.document
        )


def test_it_saves_a_draft_and_records_what_changed(draft, admins):
    (a1, s1), _ = admins
    saved, changed = services.ruleset_draft_save(
        scope=s1, actor=a1, ruleset=draft, document=harmless_change(draft.document)
    )
    assert changed
    assert saved.document["parameters"]["subsistence_minimum"]["2027"] == 55000
    event = saved.events.get(action=RuleSetEvent.Action.SAVED)
    assert "parameters.subsistence_minimum.2027" in event.detail["changed_paths"]
    assert event.detail["golden_failed"] == 0
    audit = AuditEvent.objects.get(action="rules.draft_save")
    assert audit.detail["version"] == "KZ-2027.1"


def test_it_refuses_to_edit_a_published_rule_set(admins):
    (a1, s1), _ = admins
    published = RuleSet.objects.get(version="KZ-2026.1")
    with pytest.raises(ValidationError, match="неизменяем"):
        services.ruleset_draft_save(
            scope=s1, actor=a1, ruleset=published, document=published.document
        )


# --------------------------------------------------------------------------- golden cases


def test_it_refuses_a_golden_card_that_is_not_a_valid_card(admins):
    (a1, s1), _ = admins
    bad = example("01-extreme-need")
    bad["members"][0]["iin"] = "123"
    with pytest.raises(CardError):
        services.golden_case_create(scope=s1, actor=a1, name="bad", expected_category=1, card=bad)
    assert not GoldenCase.objects.filter(name="bad").exists()


def test_it_takes_a_golden_card_from_a_stored_assessment(admins):
    (a1, s1), _ = admins
    stored = assessment_create(card_doc=example("03-need"))
    case = services.golden_case_create(
        scope=s1,
        actor=a1,
        name="from assessment",
        expected_category=stored.category,
        assessment_public_id=stored.public_id,
    )
    # Only a de-identified copy is kept (issue 9): tests/portal/test_security_admin.py.
    assert case.source == "assessment-deidentified" and case.card_sha256 != stored.card_sha256


# --------------------------------------------------------------------------- the publishing gate


def test_it_publishes_when_every_gate_is_passed(draft, admins):
    (_a1, _s1), (a2, s2) = admins
    draft = ready_to_publish(draft, admins)
    today = timezone.localdate()
    published = services.ruleset_publish_governed(
        scope=s2, actor=a2, ruleset=draft, effective_from=today
    )
    assert published.status == "published" and published.published_by == a2
    assert ruleset_in_force(on=today) == published
    actions = set(published.events.values_list("action", flat=True))
    assert {"created", "saved", "previewed", "approved", "published"} <= actions
    assert AuditEvent.objects.filter(action="rules.publish").exists()


def test_it_refuses_to_publish_with_a_failing_golden_case(draft, admins):
    (a1, s1), (a2, s2) = admins
    draft, _ = services.ruleset_draft_save(
        scope=s1, actor=a1, ruleset=draft, document=breaking_change(draft.document)
    )
    run_preview(draft, a1, s1)
    services.ruleset_approve(scope=s2, actor=a2, ruleset=draft)
    with pytest.raises(ValidationError) as exc:
        services.ruleset_publish_governed(
            scope=s2, actor=a2, ruleset=draft, effective_from=timezone.localdate()
        )
    assert any("06-two-homes" in m for m in exc.value.messages)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_it_refuses_the_author_approving_own_draft(draft, admins):
    (a1, s1), _ = admins
    with pytest.raises(ValidationError, match="Автор черновика не может"):
        services.ruleset_approve(scope=s1, actor=a1, ruleset=draft)


def test_it_refuses_a_second_approval_by_the_same_person(draft, admins):
    _, (a2, s2) = admins
    services.ruleset_approve(scope=s2, actor=a2, ruleset=draft)
    with pytest.raises(ValidationError, match="уже одобрили"):
        services.ruleset_approve(scope=s2, actor=a2, ruleset=draft)


def test_it_refuses_to_publish_without_a_preview(draft, admins):
    (a1, s1), (a2, s2) = admins
    draft, _ = services.ruleset_draft_save(
        scope=s1, actor=a1, ruleset=draft, document=harmless_change(draft.document)
    )
    services.ruleset_approve(scope=s2, actor=a2, ruleset=draft)
    with pytest.raises(ValidationError) as exc:
        services.ruleset_publish_governed(
            scope=s2, actor=a2, ruleset=draft, effective_from=timezone.localdate()
        )
    assert any("Не выполнен предпросмотр влияния" in m for m in exc.value.messages)


def test_it_refuses_a_preview_and_approval_of_an_older_document(draft, admins):
    (a1, s1), (a2, s2) = admins
    draft = ready_to_publish(draft, admins)
    doc = json.loads(json.dumps(draft.document))
    doc["parameters"]["minimum_wage"]["2027"] = 95000
    draft, _ = services.ruleset_draft_save(scope=s1, actor=a1, ruleset=draft, document=doc)
    with pytest.raises(ValidationError) as exc:
        services.ruleset_publish_governed(
            scope=s2, actor=a2, ruleset=draft, effective_from=timezone.localdate()
        )
    text = " ".join(exc.value.messages)
    assert "прежней редакции черновика; запустите его для текущей" in text
    assert "Одобрение относится к прежней редакции" in text


def test_it_refuses_a_publish_date_in_the_past(draft, admins):
    _, (a2, s2) = admins
    draft = ready_to_publish(draft, admins)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.ruleset_publish_governed(
            scope=s2, actor=a2, ruleset=draft, effective_from=yesterday
        )
    assert "не может быть в прошлом" in " ".join(exc.value.messages)


def test_it_activates_a_scheduled_version_on_its_date(draft, admins):
    _, (a2, s2) = admins
    draft = ready_to_publish(draft, admins)
    today = timezone.localdate()
    future = today + dt.timedelta(days=30)
    services.ruleset_publish_governed(scope=s2, actor=a2, ruleset=draft, effective_from=future)
    assert ruleset_in_force(on=today).version == "KZ-2026.1"
    assert ruleset_in_force(on=future).version == "KZ-2027.1"
    assert ruleset_in_force(on=future - dt.timedelta(days=1)).version == "KZ-2026.1"
    from portal.rules.selectors import ruleset_display_status

    assert ruleset_display_status(RuleSet.objects.get(version="KZ-2027.1"))[0] == "scheduled"


# --------------------------------------------------------------------------- impact preview


def test_it_previews_the_impact_per_school_and_region(world, draft, admins):
    (a1, s1), _ = admins
    pedagogue = world.user("pedagogue_a")
    with_request = []
    for serial, name in enumerate(["06-two-homes", "03-need", "01-extreme-need"], start=1):
        a = assessment_create(card_doc=example(name))
        req = AidRequest(
            school=world.school_a,
            created_by=pedagogue,
            **request_data(student_iin=student_iin(serial)),
        )
        req.save()
        AidRequestScoring.objects.create(request=req, attempt=1, assessment=a)
        with_request.append(req)
    assessment_create(card_doc=example("06-two-homes"))  # no request
    draft, _ = services.ruleset_draft_save(
        scope=s1, actor=a1, ruleset=draft, document=breaking_change(draft.document)
    )
    preview = run_preview(draft, a1, s1)
    assert preview.status == "done", preview.error
    r = preview.result
    assert r["total"] == 4
    assert r["hw_disappear"] == 2 and r["hw_appear"] == 0, r
    assert r["matrix"][5][5] == 0 and sum(r["matrix"][5]) == 2  # both 6s moved down
    school = r["schools"][str(world.school_a.pk)]
    assert school["total"] == 3 and school["hw_disappear"] == 1
    assert school["affected"] == [str(with_request[0].public_id)]
    assert r["regions"][str(world.kar.pk)]["hw_disappear"] == 1
    assert r["no_request"]["total"] == 1 and r["no_request"]["hw_disappear"] == 1

    from portal.rules.selectors import impact_affected_requests

    assert list(impact_affected_requests(scope_for(pedagogue), preview=preview)) == [
        with_request[0]
    ]
    assert not impact_affected_requests(s1, preview=preview).exists()
    other = world.user("pedagogue_c")
    assert not impact_affected_requests(scope_for(other), preview=preview).exists()


# --------------------------------------------------------------------------- diff


def test_it_diffs_two_versions_parameter_by_parameter():
    old = {"a": {"x": 1, "y": [1, 2]}, "gone": True}
    new = {"a": {"x": 2, "y": [1, 2, 3]}, "new": "v"}
    rows = {r.path: (r.change, r.old, r.new) for r in ruleset_diff(old, new)}
    assert rows == {
        "a.x": ("changed", 1, 2),
        "a.y[2]": ("added", None, 3),
        "gone": ("removed", True, None),
        "new": ("added", None, "v"),
    }
    assert flatten({"p": {"2027": 5}}) == {"p.2027": 5}


def test_it_diffs_a_draft_against_its_source(draft, admins):
    (a1, s1), _ = admins
    draft, _ = services.ruleset_draft_save(
        scope=s1, actor=a1, ruleset=draft, document=harmless_change(draft.document)
    )
    source = RuleSet.objects.get(version="KZ-2026.1")
    paths = {r.path: r.change for r in ruleset_diff(source.document, draft.document)}
    assert paths["parameters.subsistence_minimum.2027"] == "added"
    assert paths["wealth_points[1].value"] == "changed"
    assert paths["version"] == "changed"


def test_it_takes_over_a_preview_whose_run_died_and_leaves_a_live_one(draft, admins):
    import datetime as dt

    from django.utils import timezone

    from portal.rules.services import PREVIEW_TASK_TIME_LIMIT, impact_preview_run

    (a1, s1), _ = admins
    preview = run_preview(draft, a1, s1)
    assert preview.status == "done"
    # A run still within the task's time limit is left alone (a second delivery skips it).
    ImpactPreview.objects.filter(pk=preview.pk).update(status="running", result={})
    assert impact_preview_run(preview_id=preview.pk).status == "running"
    # Older than the hard limit: its worker is gone, the redelivered task finishes it.
    long_ago = timezone.now() - PREVIEW_TASK_TIME_LIMIT - dt.timedelta(seconds=1)
    ImpactPreview.objects.filter(pk=preview.pk).update(created_at=long_ago, started_at=long_ago)
    assert impact_preview_run(preview_id=preview.pk).status == "done"
