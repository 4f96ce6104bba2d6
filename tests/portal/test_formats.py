"""Locale number and date formats in all three languages (Django has none for Kazakh)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import formats, translation

from schools.models import School

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("language", "number", "decimal"),
    [
        ("ru", f"1{NBSP}234{NBSP}567", f"85{NBSP}250,5"),
        ("kk", f"1{NBSP}234{NBSP}567", f"85{NBSP}250,5"),
        ("en", "1,234,567", "85,250.5"),
    ],
)
def test_it_groups_numbers_in_templates_per_language(language, number, decimal):
    template = Template("{% load humanize %}{{ n }}|{{ n|intcomma }}|{{ d }}")
    with translation.override(language):
        text = template.render(Context({"n": 1234567, "d": Decimal("85250.5")}))
    assert text == f"{number}|{number}|{decimal}"


def test_it_writes_kazakh_dates_the_kazakh_way():
    day = dt.date(2026, 9, 15)
    with translation.override("kk"):
        assert formats.date_format(day) == "2026 ж. 15 қыркүйек"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "15.09.2026"
        assert formats.get_format("DECIMAL_SEPARATOR") == ","
    with translation.override("ru"):
        assert formats.date_format(day) == "15 сентября 2026 г."
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "15.09.2026"


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_it_reads_iso_dates_first_so_date_inputs_round_trip(language):
    """<input type="date"> sends 2026-09-15 and must get the same form back after an error."""
    with translation.override(language):
        assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%Y-%m-%d"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", f"1{NBSP}234{NBSP}567"), ("kk", f"1{NBSP}234{NBSP}567"), ("en", "1,234,567")],
)
def test_it_renders_1234567_with_separators_on_a_page(client_for, world, language, expected):
    School.objects.filter(pk=world.school_a.pk).update(student_count=1234567)
    c = client_for("pedagogue_a")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = c.get("/").content.decode()
    assert f'lang="{language}"' in page
    assert expected in page
    assert "1234567" not in page
