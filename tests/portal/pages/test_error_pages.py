"""Issue 16, errors and chrome: 400/403/404/500 and CSRF failure pages in the reader's
language saying what to do next (the 500 page without a database), page titles with a
separator, the favicon, the sign-in field's label and the password-reset e-mail for staff."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from portal import errors

STATIC = Path(__file__).resolve().parents[3] / "static"

NOT_FOUND = {"ru": "Страница не найдена", "kk": "Бет табылмады", "en": "Page not found"}
FORBIDDEN = {
    "ru": "Нет доступа к этой странице",
    "kk": "Бұл бетке кіруге рұқсат жоқ",
    "en": "You have no access to this page",
}


def _in(client: Client, lang: str) -> Client:
    client.post(reverse("set_language"), {"language": lang})
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_404_is_in_the_readers_language_and_lists_no_urls(client_for, lang):
    for c in (_in(Client(), lang), _in(client_for("pedagogue_a"), lang)):
        r = c.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=lang)
        html = r.content.decode()
        assert r.status_code == 404
        assert NOT_FOUND[lang] in html and f'<html lang="{lang}">' in html
        assert "URLconf" not in html and "api/v1/" not in html
        assert f"<title>{NOT_FOUND[lang]} — Көмек</title>" in html
    # An object out of scope answers the same page (no hint that it exists).
    r = c.get(reverse("requests:aid-request-detail", args=["00000000-0000-4000-8000-000000000000"]))
    assert r.status_code == 404 and NOT_FOUND[lang] in r.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_403_says_why_and_what_to_do_next(client_for, lang):
    c = _in(client_for("pedagogue_a"), lang)
    r = c.get(reverse("audit:audit-event-list"))
    html = r.content.decode()
    assert r.status_code == 403 and FORBIDDEN[lang] in html
    assert "403 Forbidden" not in html
    assert reverse("portal:home") in html  # the way on
    assert 'data-testid="whoami"' in html  # the page keeps the navigation


def test_500_renders_without_a_database_in_the_readers_language():
    """Not marked django_db: any query would fail this test."""
    request = RequestFactory().get("/requests/")
    for lang, words in (
        ("ru", "На сервере произошла ошибка"),
        ("kk", "Серверде қате шықты"),
        ("en", "Something went wrong on the server"),
    ):
        with translation.override(lang):
            r = errors.server_error(request)
        html = r.content.decode()
        assert r.status_code == 500 and words in html and f'<html lang="{lang}">' in html


@pytest.mark.django_db
def test_400_and_csrf_failure_pages(world):
    r = Client().get("/no-such-page/?iin=070915300124")
    assert r.status_code == 404 and b"070915300124" not in r.content  # never echoed
    r = Client().get("/", HTTP_HOST="evil.example")
    assert r.status_code == 400 and "Портал не смог прочитать запрос" in r.content.decode()
    c = Client(enforce_csrf_checks=True)
    r = c.post(reverse("account_login"), {"login": "pedagogue_a", "password": "x"})
    html = r.content.decode()
    assert r.status_code == 403 and "Форма устарела, данные не отправлены" in html
    assert "CSRF verification failed" not in html and "Forbidden" not in html


@pytest.mark.django_db
def test_titles_favicon_and_the_sign_in_label(client):
    html = client.get(reverse("account_login")).content.decode()
    assert "<title>Вход — Көмек</title>" in html
    assert 'rel="icon"' in html and "favicon.svg" in html
    assert (STATIC / "favicon.svg").exists() and (STATIC / "favicon.ico").exists()
    assert "Логин или электронная почта" in html
    assert ">Войти</label>" not in html and ">Войти:</label>" not in html
    en = _in(Client(), "en").get(reverse("account_login")).content.decode()
    assert "Username or e-mail" in en and "<title>Sign in — Көмек</title>" in en


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "known", "unknown"),
    [
        ("ru", "запрошена смена пароля", "самостоятельной регистрации нет"),
        ("kk", "құпиясөзді ауыстыру сұралды", "өз бетінше тіркелу жоқ"),
        ("en", "a password change was requested", "there is no self-registration"),
    ],
)
def test_password_reset_mail_is_written_for_staff(world, lang, known, unknown):
    c = _in(Client(), lang)
    c.post(reverse("account_reset_password"), {"email": "pedagogue_a@test.kz"})
    c.post(reverse("account_reset_password"), {"email": "nobody@test.kz"})
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        text = (message.subject + message.body).lower()
        assert "sign up" not in text and "signup" not in text and "/accounts/signup" not in text
        assert "Көмек" in message.subject or "Komek" in message.subject
    assert known in mail.outbox[0].body and "/accounts/password/reset/key/" in mail.outbox[0].body
    assert unknown in mail.outbox[1].body


def test_the_error_handlers_are_wired():
    from django.conf import settings
    from django.urls import get_resolver

    resolver = get_resolver()
    assert resolver.resolve_error_handler(400) is errors.bad_request
    assert resolver.resolve_error_handler(403) is errors.permission_denied
    assert resolver.resolve_error_handler(404) is errors.page_not_found
    assert resolver.resolve_error_handler(500) is errors.server_error
    assert settings.CSRF_FAILURE_VIEW == "portal.errors.csrf_failure"
