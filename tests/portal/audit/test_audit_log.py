"""The audit log page: auditors only, in words (who, what, which request, which school, when),
filters (person, school, action, period, people vs system), all views of a request and of a
person (ИИН posted, never in a URL; the search audited), and the CSV with the same columns."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from portal.audit.models import AuditEvent
from portal.audit.presentation import request_code
from portal.audit.services import audit_record
from schools.scope import scope_for
from tests.portal.factories import student_iin, submit

pytestmark = pytest.mark.django_db

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _view(world, req, persona="pedagogue_a"):
    user = world.user(persona)
    return audit_record(
        action="aid_request.view",
        scope=scope_for(user),
        actor=user,
        object_type="aid_request",
        object_id=str(req.public_id),
        school_id=req.school_id,
        detail={"via": "web"},
    )


def _table(html: str) -> str:
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_it_says_who_what_which_request_which_school_and_when_in_words(
    world, client_for, no_enqueue
):
    req = submit(world)
    _view(world, req)
    audit_record(action="api_token.show", object_type="x", object_id="17")  # a system event
    c = client_for("auditor")
    html = c.get(reverse("audit:audit-event-list")).content.decode()
    rows = _table(html)
    assert "Тестов pedagogue_a" in rows and "социальный педагог" in rows
    assert "просмотр заявки" in rows and "заявка подана" in rows
    assert f"№&nbsp;{request_code(req.public_id)}" in rows
    assert reverse("requests:aid-request-detail", args=[req.public_id]) in rows
    assert world.school_a.name_ru.replace("«", "&laquo;")[:10] in rows or "школа №1" in rows
    # No raw codes, UUIDs (outside links), numeric ids, dicts; people only by default.
    text = re.sub(r"<[^>]+>", " ", rows)
    assert "aid_request.view" not in text and "{" not in text and "'via'" not in text
    assert not UUID_RE.search(text)
    assert f">{world.school_a.pk}<" not in rows
    assert "показан токен API" not in rows
    assert req.student_iin not in html and req.student_full_name not in html
    # Kazakh: the same row in Kazakh, the school by its Kazakh name.
    c.post(reverse("set_language"), {"language": "kk"})
    kk = _table(c.get(reverse("audit:audit-event-list")).content.decode())
    assert "мектеп" in kk and "просмотр заявки" not in kk


def test_it_filters_by_kind_person_school_action_and_period(world, client_for, no_enqueue):
    req_a = submit(world)
    req_c = submit(world, "pedagogue_c")
    _view(world, req_a)
    _view(world, req_c, "pedagogue_c")
    for i in range(60):
        audit_record(action="api_token.show", object_type="x", object_id=str(i))
    c = client_for("auditor")
    url = reverse("audit:audit-event-list")

    def rows(**params):
        return _table(c.get(url, params).content.decode())

    assert "1 / 2" in c.get(url, {"kind": "system"}).content.decode()
    assert "система" in rows(kind="system") and "Тестов" not in rows(kind="system")
    assert "Тестов pedagogue_c" not in rows(person="pedagogue_a")
    assert "Тестов pedagogue_a" in rows(person="Тестов pedagogue_a")
    assert request_code(req_a.public_id) not in rows(school="школа №3")
    assert request_code(req_c.public_id) in rows(school=world.school_c.bin)
    only_views = rows(action="aid_request.view")
    assert "заявка подана" not in only_views and "просмотр заявки" in only_views
    today = timezone.localdate()
    assert "Тестов" in rows(date_from=today.isoformat(), date_to=today.isoformat())
    assert "Событий не найдено" in c.get(url, {"date_to": "2020-01-01"}).content.decode()
    bad = c.get(url, {"date_from": "2026-02-02", "date_to": "2026-01-01"}).content.decode()
    assert "Конец периода раньше его начала." in bad
    # One bad field drops only itself: the other filters still apply.
    kept = rows(person="pedagogue_c", date_from="not-a-date")
    assert "Тестов pedagogue_c" in kept and "Тестов pedagogue_a" not in kept
    # All views of one request: one click from the row.
    one = rows(request=str(req_a.public_id), action="aid_request.view", kind="all")
    assert request_code(req_a.public_id) in one and request_code(req_c.public_id) not in one


def test_it_finds_all_views_of_a_person_by_posted_iin_and_audits_the_search(
    world, client_for, no_enqueue
):
    req = submit(world)
    other = submit(world, student_iin=student_iin(7))
    _view(world, req)
    _view(world, req, "principal_a")
    _view(world, other)
    c = client_for("auditor")
    url = reverse("audit:audit-person-views")
    assert c.get(url).status_code == 405  # never a GET: the ИИН stays out of URLs
    r = c.post(url, {"iin": req.student_iin})
    assert r.status_code == 200
    html = r.content.decode()
    rows = _table(html)
    assert rows.count('data-testid="audit-row"') == 2
    assert "Тестов principal_a" in rows and request_code(other.public_id) not in rows
    # The guardian is a person too: every request naming them.
    g = _table(c.post(url, {"iin": req.guardian_iin}).content.decode())
    assert g.count('data-testid="audit-row"') == 3
    # One click from a row: the student of that request, without the ИИН in the page.
    by_row = c.post(url, {"request": str(req.public_id)}).content.decode()
    assert _table(by_row).count('data-testid="audit-row"') == 2
    assert req.student_iin not in by_row
    event = AuditEvent.objects.filter(action="audit_log.person_views").latest("id")
    assert event.actor_username == "auditor" and event.detail["requests"] == 1
    assert req.student_iin not in str(list(AuditEvent.objects.values_list("detail", "object_id")))
    # CSV of the same rows, posted too.
    r = c.post(url, {"iin": req.student_iin, "export": "csv"})
    table = _csv(r)
    assert table[0][:4] == ["Время", "Кто", "Роль", "Действие"] and len(table) == 3
    # A bad ИИН: the field named, no 500.
    bad = c.post(url, {"iin": "12345"})
    assert bad.status_code == 400 and "ИИН должен состоять из 12 цифр." in bad.content.decode()


def test_the_csv_has_the_same_columns_and_filters_in_the_readers_language(
    world, client_for, no_enqueue
):
    req = submit(world)
    _view(world, req)
    audit_record(action="api_token.show", object_type="x", object_id="1")
    c = client_for("auditor")
    r = c.get(reverse("audit:audit-event-export"), {"action": "aid_request.submit"})
    assert r["Content-Type"].startswith("text/csv")
    table = _csv(r)
    assert table[0] == [
        "Время", "Кто", "Роль", "Действие", "Заявка", "Объект", "Школа", "Итог",
        "Подробности", "IP-адрес",
    ]  # fmt: skip
    assert len(table) == 2
    row = table[1]
    assert row[1] == "Тестов pedagogue_a" and row[3] == "заявка подана"
    assert row[4] == request_code(req.public_id) and row[6] == world.school_a.name_ru
    body = "\n".join(",".join(r) for r in table)
    assert not UUID_RE.search(body) and "{" not in body
    assert req.student_iin not in body and req.student_full_name not in body
    # submit, view, the system event and both exports (each recorded as it starts)
    assert len(_csv(c.get(reverse("audit:audit-event-export"), {"kind": "all"}))) == 1 + 5
    assert AuditEvent.objects.filter(action="audit_log.export", actor_username="auditor").exists()
    with translation.override("en"):
        c.post(reverse("set_language"), {"language": "en"})
        en = _csv(c.get(reverse("audit:audit-event-export")))
    assert en[0][:2] == ["Time", "Who"]


@pytest.mark.parametrize("persona", ["pedagogue_a", "region_analyst", "rules_admin", "norole"])
def test_it_is_for_auditors_only(client_for, persona):
    assert client_for(persona).get(reverse("audit:audit-event-list")).status_code == 403
    assert client_for(persona).get(reverse("audit:audit-event-export")).status_code == 403
    r = client_for(persona).post(reverse("audit:audit-person-views"), {"iin": "123"})
    assert r.status_code == 403
