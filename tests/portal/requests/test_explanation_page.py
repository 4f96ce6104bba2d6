"""The result page opens with the plain-language explanation, in the reader's language, for
each of the nine worked examples; the criteria table below it is in words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from scoring.explanation import explain
from scoring.ruleset import load_default_ruleset
from tests.portal.factories import (
    EXAMPLE_NAMES,
    ExampleSource,
    example_card,
    example_child_iin,
    score,
    submit,
)

pytestmark = pytest.mark.django_db

RAW = (
    "False",
    "True",
    ".0000",
    "✓",
    "vulnerability (",
    "band →",
    ">marker",
    ">None<",
    ">wealth",
    ">is ",
)


def _page(c, url: str, language: str) -> str:
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = c.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_it_explains_each_example_in_three_languages(world, client_for, no_enqueue, name):
    req = submit(world, student_iin=example_child_iin(name))
    assert score(req, ExampleSource(name)) == "scored"
    c = client_for("pedagogue_a")
    url = reverse("requests:aid-request-detail", args=[req.public_id])
    trace = req.scorings.get().assessment.trace
    as_of = dt.date.fromisoformat(example_card(name)["as_of"])
    for language in ("ru", "kk", "en"):
        page = _page(c, url, language)
        ex = explain(trace, load_default_ruleset(), language, as_of=as_of)
        assert 'data-testid="explanation"' in page
        start = page.index('data-testid="explanation"')
        assert start < page.index('data-testid="recommendation"')  # it opens the result
        assert start < page.index('data-testid="criteria"')  # the table stays below
        for sentence in ex.sentences()[1:]:
            assert escape(sentence) in page, (language, sentence)
        table = page[page.index('data-testid="criteria"') :]
        table = table[: table.index("</details>")]
        for raw in RAW:
            assert raw not in table, (language, raw)


def test_the_explanation_follows_the_reader_language(world, client_for, no_enqueue):
    req = submit(world, student_iin=example_child_iin("09-vulnerable-shift"))
    score(req, ExampleSource("09-vulnerable-shift"))
    c = client_for("pedagogue_a")
    url = reverse("requests:aid-request-detail", args=[req.public_id])
    assert "52\xa0000\xa0₸" in _page(c, url, "ru") and "≈\xa01,02\xa0ПМ" in _page(c, url, "ru")
    kk = _page(c, url, "kk")
    assert "Неге бұл санат" in kk and "≈\xa01,02\xa0ЕКШ" in kk and "осалдық балы" in kk
    en = _page(c, url, "en")
    assert "Why this category" in en and "52,000\xa0₸" in en and "≈\xa01.02\xa0SM" in en
    assert "moves 2 towards greater need: from 3 to 1" in en


def test_auditors_see_the_explanation_and_analysts_do_not(world, client_for, no_enqueue):
    req = submit(world, student_iin=example_child_iin("06-two-homes"))
    score(req, ExampleSource("06-two-homes"))
    url = reverse("requests:aid-request-detail", args=[req.public_id])
    page = client_for("auditor").get(url).content.decode()
    assert "Количество единиц жилья" in page and 'data-testid="explanation"' in page
    assert client_for("region_analyst").get(url).status_code == 403
    assert client_for("pedagogue_b").get(url).status_code == 404
