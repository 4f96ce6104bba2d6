"""Reasons are codes with parameters, rendered in the reader's language (pages, API); stored
Russian sentences convert to codes (the data migration's parser)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from portal.requests.reasons import Reason, ReasonCode, parse_legacy, render
from scoring.sources import CardServiceUnavailable
from tests.portal.factories import FakeSource, request_data, score, submit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ReasonCode.values)
def test_it_renders_every_code_in_three_languages(code):
    params = {"text": "старая запись"} if code == ReasonCode.LEGACY else {}
    texts = {lang: render(code, params, lang) for lang in ("ru", "kk", "en")}
    assert all(texts.values())
    if code != ReasonCode.LEGACY:
        assert len(set(texts.values())) == 3, texts


def test_it_refuses_an_unknown_code():
    with pytest.raises(ValueError):
        Reason("повторите через 37 с")


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("Нет записанного согласия на обработку данных семьи.", "no_consent", {}),
        ("Срок действия согласия истёк.", "consent_expired", {}),
        (
            "Сервис карт семьи недоступен после всех попыток: Сервис карт семьи недоступен: "
            "после серии ошибок обращения к нему временно приостановлены. "
            "Повторите примерно через 37 с.",
            "card_unavailable",
            {"cause": "circuit_open"},
        ),
        (
            "Сервис карт семьи недоступен после всех попыток: Сервис карт семьи недоступен "
            "(нет ответа за отведённое время), попыток: 3. Повторите позже.",
            "card_unavailable",
            {"cause": "timeout"},
        ),
        (
            "Сервис карт семьи вернул некорректную карту (ошибок: 4; где: members)",
            "card_malformed",
            {"count": 4},
        ),
        ("Карта семьи не найдена.", "card_not_found", {}),
        ("Заявка отозвана школой.", "withdrawn_by_school", {}),
        ("Что-то своё", "legacy", {"text": "Что-то своё"}),
    ],
)
def test_it_converts_stored_sentences_to_codes(text, code, params):
    reason = parse_legacy(text)
    assert (reason.code, reason.params) == (code, params)


def test_two_delays_are_one_reason():
    a = parse_legacy("Сервис карт семьи недоступен после всех попыток: … приостановлены … 37 с.")
    b = parse_legacy("Сервис карт семьи недоступен после всех попыток: … приостановлены … 12 с.")
    assert a == b
    assert parse_legacy("") is None


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_stored_sentences(world):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("portal", "0004_rescore_batch")],
        [("portal", "0005_lifecycle_reasons_limits")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("portal", "AidRequest")
    data = request_data()
    row = old.objects.create(
        school_id=world.school_a.pk,
        created_by_id=world.user("pedagogue_a").pk,
        status="needs_review",
        status_reason="Срок действия согласия истёк.",
        **data,
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the schema as it was
    from portal.requests.models import AidRequest

    req = AidRequest.objects.get(pk=row.pk)
    assert (req.status_reason_code, req.status_reason_params) == ("consent_expired", {})
    assert req.status_reason_in("en") != req.status_reason_in("ru")


def test_pages_and_api_render_the_reason_in_the_readers_language(world, client_for, no_enqueue):
    req = submit(world)
    score(req, FakeSource(CardServiceUnavailable("timeout", retry_after=None, attempts=3)))
    req.refresh_from_db()
    url = reverse("requests:aid-request-detail", args=[req.public_id])
    c = client_for("pedagogue_a")
    texts = {}
    for lang in ("ru", "kk", "en"):
        c.post(reverse("set_language"), {"language": lang, "next": url})
        page = c.get(url).content.decode()
        texts[lang] = req.status_reason_in(lang)
        assert texts[lang] in page, lang
    assert "unavailable" in texts["en"]
    api = APIClient()
    api.force_authenticate(world.user("pedagogue_a"))
    body = api.get(f"/api/v1/aid-requests/{req.public_id}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["status_reason"] == texts["en"]
    assert body["reason"]["code"] == "card_unavailable"
    assert body["reason"]["params"] == {"cause": "timeout"}
    kk = api.get(f"/api/v1/aid-requests/{req.public_id}/", HTTP_ACCEPT_LANGUAGE="kk").json()
    assert kk["status_reason"] == texts["kk"] != texts["ru"]
