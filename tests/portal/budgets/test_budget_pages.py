"""The budgets page: district finance sets amounts and uploads a file; the request page shows
what is left and other schools' requests for the same child."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.budgets.duplicates import request_code
from portal.budgets.models import Budget
from tests.portal.factories import submit

pytestmark = pytest.mark.django_db
YEAR = "2026-2027"


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_district_finance_sets_a_budget_in_the_browser(client_for, world, lang):
    c = client_for("district_finance")
    c.cookies["django_language"] = lang
    r = c.get(f"/budgets/?year={YEAR}", HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 200
    assert world.school_a.bin in r.content.decode() and world.school_b.bin not in r.content.decode()
    r = c.post(
        "/budgets/set/",
        {"year": YEAR, "school_bin": world.school_a.bin, "amount_kzt": "1 500 000"},
    )
    assert r.status_code == 302
    assert Budget.objects.get(school=world.school_a, academic_year=YEAR).amount_kzt == 1_500_000
    page = c.get(f"/budgets/?year={YEAR}").content.decode()
    assert "1,500,000" in page or "1\u00a0500\u00a0000" in page or "1 500 000" in page
    csv = c.get(f"/budgets/export.csv?year={YEAR}").content.decode("utf-8-sig")
    assert "1500000" in csv


def test_a_bad_amount_is_a_message_not_a_save(client_for, world):
    c = client_for("district_finance")
    r = c.post(
        "/budgets/set/",
        {"year": YEAR, "school_bin": world.school_a.bin, "amount_kzt": "abc"},
        follow=True,
    )
    assert r.status_code == 200 and "целое" in r.content.decode()
    assert not Budget.objects.exists()


def test_the_pedagogue_cannot_set_a_budget(client_for, world):
    r = client_for("pedagogue_a").post(
        "/budgets/set/", {"year": YEAR, "school_bin": world.school_a.bin, "amount_kzt": "5"}
    )
    assert r.status_code == 403
    assert not Budget.objects.exists()


def test_upload_in_the_browser(client_for, world):
    c = client_for("district_finance")
    data = f"school_bin,academic_year,amount_kzt\n{world.school_a.bin},{YEAR},700000\n".encode()
    r = c.post(
        "/budgets/import/",
        {"year": YEAR, "file": SimpleUploadedFile("b.csv", data, content_type="text/csv")},
    )
    assert r.status_code == 302
    assert Budget.objects.get().amount_kzt == 700_000


def test_the_request_page_shows_what_is_left_and_duplicates(client_for, world, no_enqueue):
    Budget.objects.create(school=world.school_c, academic_year=YEAR, amount_kzt=90_000)
    a = submit(world, "pedagogue_a")
    c_req = submit(world, "pedagogue_c")
    page = client_for("pedagogue_c").get(f"/requests/{c_req.public_id}/").content.decode()
    assert 'data-testid="budget-left"' in page and "90" in page
    assert world.school_a.name in page and request_code(a) in page
