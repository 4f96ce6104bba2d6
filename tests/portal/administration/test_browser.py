"""In a real browser, in Russian, Kazakh and English, on a desktop and at 390 px: the network
administrator finds a pedagogue, moves them to another school, resets a lost authenticator,
switches an account off, and uploads a staff file with errors (line and field shown, nothing
created). Screenshots go to $KOMEK_SCREENSHOTS when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from schools.models import Membership
from tests.auth import mfa_session_key
from tests.browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shot(page, name: str, tmp_path: Path) -> None:  # noqa: ANN001
    folder = Path(os.environ.get("KOMEK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _open(page, live_server, user, language: str) -> None:  # noqa: ANN001
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": mfa_session_key(user),
                "url": live_server.url,
            },
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
        ]
    )


def _no_horizontal_overflow(page) -> bool:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_it_moves_resets_and_switches_off_staff_and_reports_upload_errors(
    world, live_server, tmp_path
):
    admin = world.user("network_admin")
    with chromium_page() as page:
        page.set_viewport_size(DESKTOP)
        _open(page, live_server, admin, "ru")
        page.goto(f"{live_server.url}/")
        page.click("text=Школы и сотрудники")
        page.wait_for_selector("[data-testid='admin-staff-count']")
        _shot(page, "admin-home-ru", tmp_path)
        page.goto(f"{live_server.url}/administration/staff/")
        page.fill("#q", "pedagogue_a")
        page.click("[data-testid='staff-search'] button")
        row = page.locator("tr[data-username='pedagogue_a']")
        assert row.count() == 1 and page.locator("tr[data-username='pedagogue_b']").count() == 0
        _shot(page, "admin-staff-search-ru", tmp_path)
        row.locator("[data-testid='staff-move']").click()
        page.select_option("#id_school", str(world.school_c.public_id))
        _shot(page, "admin-staff-move-ru", tmp_path)
        page.click("[data-testid='move']")
        page.wait_for_selector("text=переведён(а) в школу")
        assert Membership.objects.get(user__username="pedagogue_a").school == world.school_c

        page.goto(f"{live_server.url}/administration/staff/?q=pedagogue_b")
        page.click("tr[data-username='pedagogue_b'] [data-testid='staff-mfa-reset']")
        assert "Сбросить второй фактор" in page.inner_text("main")
        _shot(page, "admin-mfa-reset-confirm-ru", tmp_path)
        page.click("[data-testid='confirm']")
        page.wait_for_selector("text=Второй фактор «pedagogue_b» сброшен")

        page.goto(f"{live_server.url}/administration/staff/?q=pedagogue_b")
        page.click("tr[data-username='pedagogue_b'] [data-testid='staff-deactivate']")
        page.click("[data-testid='confirm']")
        page.wait_for_selector("tr[data-username='pedagogue_b'] [data-testid='staff-activate']")

        csv = tmp_path / "staff.csv"
        csv.write_text(
            "username,full_name,email,role,unit\n"
            f"new1,Иванов Иван,new1@test.kz,pedagogue,{world.school_a.bin}\n"
            "new2,,no-mail,pedagogue,000000000000\n",
            encoding="utf-8",
        )
        page.goto(f"{live_server.url}/administration/staff/import/")
        page.set_input_files("#id_file", str(csv))
        page.click("[data-testid='upload']")
        page.wait_for_selector("[data-testid='import-errors']")
        text = page.inner_text("[data-testid='import-errors']")
        assert "full_name" in text and "email" in text and "unit" in text and "3" in text
        _shot(page, "admin-import-errors-ru", tmp_path)
        assert not Membership.objects.filter(user__username="new1").exists()

        expected = {
            "kk": ("Желінің мектептері мен қызметкерлері", "Қызметкерлер", "Мектептер"),
            "en": ("Schools and staff of the network", "Staff", "Schools"),
            "ru": ("Школы и сотрудники сети", "Сотрудники", "Школы"),
        }
        for language, (heading, staff, schools) in expected.items():
            for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
                page.set_viewport_size(size)
                _open(page, live_server, admin, language)
                page.goto(f"{live_server.url}/administration/")
                assert heading in page.inner_text("main")
                page.goto(f"{live_server.url}/administration/staff/")
                assert staff in page.inner_text("h1")
                assert _no_horizontal_overflow(page), (language, size_name, "staff")
                _shot(page, f"admin-staff-{language}-{size_name}", tmp_path)
                page.goto(f"{live_server.url}/administration/schools/")
                assert schools in page.inner_text("h1")
                assert _no_horizontal_overflow(page), (language, size_name, "schools")
                _shot(page, f"admin-schools-{language}-{size_name}", tmp_path)
                page.goto(f"{live_server.url}/administration/schools/{world.school_a.public_id}/")
                assert _no_horizontal_overflow(page), (language, size_name, "school form")
                _shot(page, f"admin-school-form-{language}-{size_name}", tmp_path)
