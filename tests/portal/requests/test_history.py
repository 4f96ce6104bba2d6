"""The request's history in words (who, what, when) from its audit rows."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.http import Http404
from django.urls import reverse

from portal.requests import selectors, services
from schools.scope import scope_for
from tests.portal.factories import ExampleSource, example_child_iin, score, submit

pytestmark = pytest.mark.django_db


def _decide(world, req, **kw):
    user = world.user("pedagogue_a")
    return services.aid_request_decide(scope=scope_for(user), actor=user, aid_request=req, **kw)


def test_it_tells_what_happened_who_did_it_and_when(world, client_for, no_enqueue):
    req = submit(world, student_iin=example_child_iin("03-need"))
    score(req, ExampleSource("03-need"))
    req.refresh_from_db()
    _decide(world, req, outcome="approve", amount_kzt=20000)
    scope = scope_for(world.user("pedagogue_a"))
    history = selectors.aid_request_history(scope=scope, request=req)
    assert [h.action for h in history] == [
        "aid_request.submit",
        "aid_request.scored",
        "aid_request.decide",
    ]
    assert [h.text for h in history] == [
        "Заявка подана и поставлена в очередь на оценку.",
        "Оценена: категория 3.",
        "Решение: одобрить, 20\xa0000\xa0₸.",
    ]
    assert history[0].actor == "Тестов pedagogue_a" and history[0].role == "социальный педагог"
    assert history[1].is_system and history[1].actor == ""
    assert history[0].when <= history[1].when <= history[2].when

    c = client_for("pedagogue_a")
    url = reverse("requests:aid-request-detail", args=[req.public_id])
    c.get(url)  # views are in the audit log, not in the history
    page = c.get(url).content.decode()
    assert page.count('data-testid="history-entry"') == 3
    assert "Оценена: категория 3." in page and "автоматически" in page
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "kk"
    kk = c.get(url).content.decode()
    assert "Өтінім тарихы" in kk and "Бағаланды: 3-санат." in kk and "автоматты түрде" in kk
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = c.get(url).content.decode()
    assert "Application history" in en and "Decision: approve, 20,000\xa0₸." in en


def test_it_words_contest_withdraw_and_review(world, no_enqueue):
    user = world.user("pedagogue_a")
    scope = scope_for(user)
    no_consent = submit(
        world,
        consent_method="",
        consent_reference="",
        consent_given_on=None,
        consent_valid_until=None,
    )
    texts = [h.text for h in selectors.aid_request_history(scope=scope, request=no_consent)]
    assert texts == ["Заявка подана; сразу отправлена на проверку: нет действующего согласия."]
    req = submit(world, student_iin=example_child_iin("02-below-subsistence"))
    score(req, ExampleSource("02-below-subsistence"))
    req.refresh_from_db()
    services.aid_request_contest(scope=scope, actor=user, aid_request=req)
    req.refresh_from_db()
    services.aid_request_withdraw(scope=scope, actor=user, aid_request=req)
    texts = [h.text for h in selectors.aid_request_history(scope=scope, request=req)]
    assert texts[-2:] == ["Оценка оспорена: карта семьи запрошена заново.", "Заявка отозвана."]
    from django.utils import translation

    with translation.override("en"):
        texts = [h.text for h in selectors.aid_request_history(scope=scope, request=req)]
    assert texts[-1] == "The application has been withdrawn."


def test_it_is_scoped(world, no_enqueue):
    req = submit(world)
    with pytest.raises(Http404):
        selectors.aid_request_history(scope=scope_for(world.user("pedagogue_c")), request=req)
    assert selectors.aid_request_history(scope=scope_for(world.user("auditor")), request=req)
