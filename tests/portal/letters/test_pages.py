"""The letter download (page and API) and the public verification page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.letters import codes
from tests.auth import login_with_mfa
from tests.portal.letters.helpers import GUARDIAN, STUDENT, decided, flat, pdf_text


@pytest.fixture
def letter(world, no_enqueue, django_capture_on_commit_callbacks):
    return decided(world, django_capture_on_commit_callbacks)


def _download(client, letter, lang=None, api=False):
    name = "api:aid-request-letter" if api else "letters:letter-download"
    url = reverse(name, args=[letter.request.public_id])
    return client.get(url, {"lang": lang} if lang else {})


@pytest.mark.parametrize("api", [False, True])
def test_it_downloads_the_letter_in_each_language_and_audits_it(api, letter, client_for):
    client = client_for("pedagogue_a")
    for lang in ("kk", "ru", "en"):
        response = _download(client, letter, lang, api=api)
        assert response.status_code == 200, response.content[:200]
        assert response["Content-Type"] == "application/pdf"
        assert f"-{lang}.pdf" in response["Content-Disposition"]
        text = flat(pdf_text(response.content))
        assert letter.code_grouped in text and STUDENT in text
    events = AuditEvent.objects.filter(action="letter.download", object_id=str(letter.public_id))
    assert sorted(e.detail["language"] for e in events) == ["en", "kk", "ru"]
    assert {e.detail["via"] for e in events} == {"api" if api else "web"}


def test_it_downloads_in_the_family_language_by_default(letter, client_for):
    response = _download(client_for("principal_a"), letter)
    assert response.status_code == 200
    assert f"-{letter.family_language}.pdf" in response["Content-Disposition"]


def test_it_names_the_lang_field_when_it_is_wrong(letter, client_for):
    client = client_for("pedagogue_a")
    page = _download(client, letter, "de")
    assert page.status_code == 400 and "lang" in page.content.decode()
    api = _download(client, letter, "de", api=True)
    assert api.status_code == 400 and "lang" in api.json()
    assert not AuditEvent.objects.filter(action="letter.download").exists()


def test_it_answers_404_before_a_decision_and_outside_the_scope(world, letter, client_for):
    from tests.portal.factories import student_iin, submit

    undecided = submit(world, student_iin=student_iin(55))
    client = client_for("pedagogue_a")
    assert (
        client.get(reverse("letters:letter-download", args=[undecided.public_id])).status_code
        == 404
    )
    api = client.get(reverse("api:aid-request-letter", args=[undecided.public_id]))
    assert api.status_code == 404
    other = client_for("pedagogue_c")
    assert _download(other, letter, "ru").status_code == 404
    assert _download(other, letter, "ru", api=True).status_code == 404
    assert _download(client_for("district_analyst"), letter, "ru").status_code == 403


def test_it_shows_the_letter_and_its_code_on_the_request_page(letter, client_for):
    page = client_for("pedagogue_a").get(
        reverse("requests:aid-request-detail", args=[letter.request.public_id])
    )
    html = page.content.decode()
    assert letter.code_grouped in html
    assert reverse("letters:letter-download", args=[letter.request.public_id]) + "?lang=kk" in html


# --------------------------------------------------------------------------- verification


def _verify(client, code, lang="ru"):
    return client.get(reverse("letters:verify", args=[code]), HTTP_ACCEPT_LANGUAGE=lang)


@pytest.mark.parametrize(
    ("lang", "found_words", "refused_words"),
    [
        ("ru", "Письмо с этим кодом выдано", "в помощи отказано"),
        ("kk", "Бұл коды бар хатты", "көмек көрсетуден"),
        ("en", "A letter with this code was issued", "aid refused"),
    ],
)
def test_it_verifies_a_code_without_sign_in_showing_only_date_school_decision(
    lang, found_words, refused_words, letter, client
):
    response = _verify(client, letter.code_grouped.lower(), lang)
    assert response.status_code == 200
    html = response.content.decode()
    assert found_words in html
    assert timezone.localtime(letter.issued_at).strftime("%d.%m.%Y") in html
    school = world_school_name(letter, lang)
    assert school in html
    assert "50\xa0851\xa0₸" in html or "50,851\xa0₸" in html
    req = letter.request
    for secret in (STUDENT, GUARDIAN, req.student_iin, req.guardian_iin, req.guardian_phone):
        assert secret not in html
    assert refused_words not in html


def world_school_name(letter, lang):
    school = letter.school
    return school.name_kk if lang == "kk" else school.name_ru


def test_it_says_not_found_for_a_forged_code_in_the_same_shape(letter, client):
    genuine = _verify(client, letter.code_grouped)
    forged_code = codes.grouped(codes.new_code())
    forged = _verify(client, forged_code)
    garbage = _verify(client, "not-a-code")
    assert genuine.status_code == forged.status_code == garbage.status_code == 200
    for response in (forged, garbage):
        html = response.content.decode()
        assert "не найдено" in html
        assert letter.school.name_ru not in html
    assert [t.name for t in genuine.templates][:1] == [t.name for t in forged.templates][:1]
    events = AuditEvent.objects.filter(action="letter.verify").order_by("id")
    assert [e.outcome for e in events] == ["ok", "denied", "denied"]
    assert events[0].object_id == str(letter.public_id) and not events[1].object_id


def test_it_says_a_superseded_letter_was_replaced(world, letter, client):
    from portal.letters.services import letter_issue
    from portal.requests.models import Decision

    revised = Decision.objects.create(
        request=letter.request,
        assessment=None,
        outcome="approve",
        amount_kzt=100,
        decided_by=world.user("pedagogue_a"),
    )
    letter_issue(decision_id=revised.pk)
    html = _verify(client, letter.code_grouped).content.decode()
    assert "заменено более поздним решением" in html


def test_it_goes_from_the_form_to_the_code_page(letter, client):
    form = client.get(reverse("letters:verify-form"))
    assert form.status_code == 200 and 'name="code"' in form.content.decode()
    response = client.get(reverse("letters:verify-form"), {"code": letter.code.lower()})
    assert response.status_code == 302
    assert response["Location"] == reverse("letters:verify", args=[letter.code_grouped])


def test_it_rate_limits_verification_per_client_ip(letter, client, settings):
    settings.VERIFY_RATE_LIMIT = 3
    for _ in range(3):
        assert _verify(client, codes.grouped(codes.new_code())).status_code == 200
    blocked = _verify(client, letter.code_grouped)
    assert blocked.status_code == 429
    assert letter.school.name_ru not in blocked.content.decode()
    other_ip = client.get(
        reverse("letters:verify", args=[letter.code_grouped]), REMOTE_ADDR="127.0.0.2"
    )
    assert other_ip.status_code == 200


def test_it_is_public_even_for_a_signed_in_user(letter, world, client):
    login_with_mfa(client, world.user("district_analyst"))
    assert _verify(client, letter.code_grouped).status_code == 200


def test_it_shows_the_letter_and_the_notices_in_the_api(letter, client_for):
    data = (
        client_for("pedagogue_a")
        .get(reverse("api:aid-request-detail", args=[letter.request.public_id]))
        .json()
    )
    assert data["letter"]["code"] == letter.code_grouped
    assert data["letter"]["status"] == "issued"
    assert data["letter"]["url"] == reverse(
        "api:aid-request-letter", args=[letter.request.public_id]
    )
    assert {(n["event"], n["status"]) for n in data["notices"]} == {
        ("received", "pending"),
        ("decided", "pending"),
    }
