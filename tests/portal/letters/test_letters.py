"""Decision letters: issued on the decision's commit, once; superseded by a later decision;
the PDF in kk/ru/en with every Kazakh letter right (read back from the PDF's text)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.letters import codes
from portal.letters.models import Letter
from portal.letters.render import letter_context, letter_pdf
from portal.letters.services import letter_issue
from portal.requests import services
from portal.requests.models import Decision
from schools.scope import scope_for
from tests.portal.factories import score
from tests.portal.letters.helpers import (
    GUARDIAN,
    KAZAKH_LETTERS,
    STUDENT,
    decided,
    flat,
    pdf_text,
)


def test_it_issues_a_letter_once_on_commit_of_the_decision(
    world, no_enqueue, django_capture_on_commit_callbacks
):
    letter = decided(world, django_capture_on_commit_callbacks)
    assert codes.normalize(letter.code) == letter.code
    assert letter.status == Letter.Status.ISSUED and letter.superseded_by is None
    assert letter.school_id == world.school_a.pk
    assert (letter.appeal_until - timezone.localdate(letter.decision.created_at)).days == 30
    again = letter_issue(decision_id=letter.decision_id)
    assert again.pk == letter.pk
    assert Letter.objects.count() == 1
    events = AuditEvent.objects.filter(action="letter.issue")
    assert events.count() == 1 and events.get().object_id == str(letter.public_id)


def test_it_issues_the_letter_only_once_the_decision_is_committed(
    world, no_enqueue, django_capture_on_commit_callbacks
):
    from tests.portal.factories import iin_with_category, submit

    req = submit(world, student_iin=iin_with_category(1, 2))
    score(req)
    user = world.user("pedagogue_a")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.aid_request_decide(
            scope=scope_for(user), actor=user, aid_request=req, outcome="approve", amount_kzt=1
        )
    assert not Letter.objects.exists()  # only on commit
    for cb in callbacks:
        cb()
    assert Letter.objects.filter(request=req).count() == 1


def test_it_marks_the_old_letter_superseded_by_a_revised_decision(
    world, no_enqueue, django_capture_on_commit_callbacks, settings
):
    settings.LETTER_APPEAL_DAYS = 10
    first = decided(world, django_capture_on_commit_callbacks)
    assert (first.appeal_until - timezone.localdate(first.decision.created_at)).days == 10
    # A revised decision (as an appeal's outcome will make it): a new decision, a new letter.
    revised = Decision.objects.create(
        request=first.request,
        assessment=None,
        outcome="approve",
        amount_kzt=7,
        decided_by=world.user("principal_a"),
    )
    letter_issue(decision_id=revised.pk)
    first.refresh_from_db()
    second = Letter.objects.get(request=first.request, status="issued")
    assert first.status == Letter.Status.SUPERSEDED
    assert first.superseded_by_id == second.pk and first.superseded_at is not None
    assert second.code != first.code
    detail = AuditEvent.objects.filter(action="letter.issue").order_by("-id").first().detail
    assert detail["supersedes"] == [str(first.public_id)]


def test_it_writes_every_kazakh_letter_right_in_the_pdf(
    world, no_enqueue, django_capture_on_commit_callbacks
):
    letter = decided(world, django_capture_on_commit_callbacks, family_language="kk")
    assert letter.family_language == "kk"
    text = flat(pdf_text(letter_pdf(letter, "kk")))
    assert STUDENT in text and GUARDIAN in text
    for ch in KAZAKH_LETTERS:
        assert ch in text, ch
    assert "Шешім" in text  # the Kazakh words of the letter itself, not only the names
    assert letter.code_grouped in text
    assert world.school_a.name_kk in text


@pytest.mark.parametrize("language", ["ru", "en", "kk"])
def test_it_says_the_decision_reasons_rule_set_appeal_and_code(
    language, world, no_enqueue, django_capture_on_commit_callbacks
):
    letter = decided(world, django_capture_on_commit_callbacks)
    ctx = letter_context(letter, language)
    text = flat(pdf_text(letter_pdf(letter, language)))
    assert letter.code_grouped in text
    assert ctx["amount"].replace("\u00a0", " ") in text
    assert "KZ-2026.1" in text
    assert letter.appeal_until.strftime("%d.%m.%Y") in text
    assert flat(ctx["category_label"]) in text
    assert ctx["reasons"] and all(flat(line) in text for line in ctx["reasons"])
    assert "/verify/" in text
    # The ИИН is never printed.
    assert letter.request.student_iin not in text and letter.request.guardian_iin not in text


def test_it_explains_category_6_by_its_markers_and_what_would_change(
    world, no_enqueue, django_capture_on_commit_callbacks
):
    letter = decided(world, django_capture_on_commit_callbacks, category=(6,), outcome="reject")
    ctx = letter_context(letter, "ru")
    assert any("признаки высокого благосостояния" in line for line in ctx["reasons"])
    assert ctx["changes"], "category 6: what each marker would need"
    text = flat(pdf_text(letter_pdf(letter, "ru")))
    assert "В помощи отказано" in text
    assert flat(ctx["changes"][0])[:60] in text


def test_it_defaults_the_family_language_to_the_school_language(world, no_enqueue):
    from tests.portal.factories import submit

    world.school_a.language = "kk"
    world.school_a.save()
    assert submit(world).family_language == "kk"
    world.school_b.language = "mixed"
    world.school_b.save()
    assert submit(world, "pedagogue_b").family_language == "ru"
