"""Class lists: every row validated first (errors by line and field), all or nothing unless the
valid rows are saved on explicit choice; set-based saving, audit, statistics, enqueue; the
file reader (CSV, XLSX) and the batch API with a result per item."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook
from rest_framework.test import APIClient

from portal.audit.models import AuditEvent
from portal.requests import batch
from portal.requests.classlist import parse_class_list
from portal.requests.models import AidRequest, Status
from portal.stats.services import stats_rebuild
from schools.scope import scope_for
from tests.portal.factories import api_payload, request_data, stats_rollup, student_iin

pytestmark = pytest.mark.django_db
BATCH = "/api/v1/aid-requests/batch/"


def rows(n: int, **overrides) -> list[tuple[int, dict]]:
    return [
        (i + 2, {**request_data(student_iin=student_iin(i + 1)), **overrides}) for i in range(n)
    ]


def run(world, data, **kw):
    user = world.user("pedagogue_a")
    return batch.aid_requests_submit_batch(scope=scope_for(user), actor=user, rows=data, **kw)


def test_it_saves_nothing_while_any_row_is_wrong(world, no_enqueue):
    data = rows(3)
    data[1][1]["student_iin"] = "123456789012"
    data[2][1]["grade"] = "пятый"
    result = run(world, data)
    assert not result.saved and not AidRequest.objects.exists()
    assert [(e.line, e.field) for e in result.errors] == [(3, "student_iin"), (4, "grade")]


def test_it_saves_the_valid_rows_on_explicit_choice(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[int] = []
    monkeypatch.setattr(batch, "_enqueue_all", sent.extend)
    data = rows(3)
    data[1][1]["amount_kzt"] = -5
    with django_capture_on_commit_callbacks(execute=True):
        result = run(world, data, save_valid=True)
    assert result.saved and len(result.created) == 2
    assert result.created_lines == [2, 4]
    assert [(e.line, e.field) for e in result.errors] == [(3, "amount_kzt")]
    assert sorted(sent) == sorted(r.pk for r in result.created)  # queued after the commit
    assert AuditEvent.objects.filter(action="aid_request.submit").count() == 2
    assert AuditEvent.objects.filter(action="aid_request.batch_submit").count() == 1


def test_it_finds_duplicates_in_the_list_and_against_open_requests(world, no_enqueue):
    first = run(world, rows(1))
    assert first.saved
    data = rows(2) + [(9, request_data(student_iin=student_iin(2)))]
    result = run(world, data)
    assert not result.saved
    assert {(e.line, e.field) for e in result.errors} == {(2, "student_iin"), (9, "student_iin")}


def test_a_row_without_consent_is_saved_as_needs_review(world, monkeypatch):
    monkeypatch.setattr(batch, "_enqueue_all", lambda ids: None)
    data = rows(1, consent_method="", consent_given_on=None, consent_valid_until=None)
    result = run(world, data)
    assert result.created[0].status == Status.NEEDS_REVIEW


def test_the_statistics_match_a_rebuild(world, monkeypatch):
    monkeypatch.setattr(batch, "_enqueue_all", lambda ids: None)
    run(world, rows(5) + [(20, request_data(student_iin=student_iin(30), aid_kind="meals"))])
    incremental = stats_rollup()
    stats_rebuild()
    assert stats_rollup() == incremental


def test_the_progress_is_per_school(world, monkeypatch):
    monkeypatch.setattr(batch, "_enqueue_all", lambda ids: None)
    result = run(world, rows(4))
    user = world.user("pedagogue_a")
    progress = batch.batch_progress(scope=scope_for(user), batch_id=result.batch_id)
    assert progress.total == 4 and progress.waiting == 4 and progress.percent == 0
    other = world.user("pedagogue_c")
    assert batch.batch_progress(scope=scope_for(other), batch_id=result.batch_id) is None


def test_only_school_staff_upload(world):
    from django.core.exceptions import PermissionDenied

    user = world.user("district_analyst")
    with pytest.raises(PermissionDenied):
        batch.aid_requests_submit_batch(scope=scope_for(user), actor=user, rows=rows(1))


# --------------------------------------------------------------------------- files


def _csv(data: list[dict], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(data[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(data)
    return ("\ufeff" + out.getvalue()).encode()


def test_it_reads_csv_and_xlsx_with_file_line_numbers():
    data = [request_data(student_iin=student_iin(i)) for i in (1, 2)]
    parsed = parse_class_list(_csv(data, ";"), "class.csv")
    assert [line for line, _ in parsed] == [2, 3]
    assert parsed[0][1]["student_iin"] == student_iin(1)
    book = Workbook()
    sheet = book.active
    sheet.append(list(data[0]))
    for row in data:
        sheet.append(list(row.values()))
    buf = io.BytesIO()
    book.save(buf)
    parsed = parse_class_list(buf.getvalue(), "class.xlsx")
    assert parsed[1][1]["grade"] == 5 and parsed[1][0] == 3


@pytest.mark.parametrize(
    ("content", "name", "needle"),
    [
        (b"", "a.csv", "пуст"),
        (b"x", "a.pdf", "CSV или XLSX"),
        (b"\xff\xfe\x00", "a.csv", "UTF-8"),
        (b"student_iin,secret\n1,2\n", "a.csv", "Неизвестные столбцы"),
        (b"student_iin\n1\n", "a.csv", "Нет столбцов"),
        (b"not a zip", "a.xlsx", "XLSX"),
    ],
)
def test_it_explains_an_unreadable_file(content, name, needle):
    with pytest.raises(ValidationError) as info:
        parse_class_list(content, name)
    assert needle in " ".join(info.value.messages)


# --------------------------------------------------------------------------- API


@pytest.fixture
def api(world):
    client = APIClient()
    client.force_authenticate(world.user("pedagogue_a"))
    return client


def test_the_api_gives_a_result_per_item_and_saves_nothing_on_errors(api, no_enqueue):
    items = [api_payload(student_iin=student_iin(i)) for i in (1, 2, 3)]
    items[1]["grade"] = 40
    r = api.post(BATCH, {"items": items}, format="json")
    assert r.status_code == 400
    body = r.json()
    assert [i["status"] for i in body["items"]] == ["not_saved", "invalid", "not_saved"]
    assert "grade" in body["items"][1]["errors"]
    assert not AidRequest.objects.exists()


def test_the_api_saves_the_valid_items_when_asked(api, monkeypatch):
    monkeypatch.setattr(batch, "_enqueue_all", lambda ids: None)
    items = [api_payload(student_iin=student_iin(i)) for i in (1, 2)]
    items.append(api_payload(student_iin=student_iin(1)))  # a duplicate of the first
    r = api.post(BATCH, {"items": items, "save_valid": True}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert [i["status"] for i in body["items"]] == ["created", "created", "invalid"]
    assert body["created"] == 2 and body["batch"]
    assert AidRequest.objects.filter(public_id=body["items"][0]["id"]).exists()


def test_the_api_refuses_other_roles_and_empty_lists(world, api):
    assert api.post(BATCH, {"items": []}, format="json").status_code == 400
    other = APIClient()
    other.force_authenticate(world.user("district_analyst"))
    assert other.post(BATCH, {"items": [api_payload()]}, format="json").status_code == 403


# --------------------------------------------------------------------------- page


def _upload(client, content: bytes, name: str = "class.csv", **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/requests/class-list/", {"file": SimpleUploadedFile(name, content), **extra}
    )


def test_the_page_shows_errors_by_line_and_field_and_saves_nothing(world, no_enqueue):
    from django.test import Client

    from tests.auth import login_with_mfa

    client = login_with_mfa(Client(), world.user("pedagogue_a"))
    data = [request_data(student_iin=student_iin(i)) for i in (1, 2)]
    data[1]["guardian_phone"] = "12"
    r = _upload(client, _csv(data))
    assert r.status_code == 400
    html = r.content.decode()
    assert 'data-testid="class-list-error-table"' in html and "<td>3</td>" in html
    assert not AidRequest.objects.exists()


def test_the_page_saves_and_shows_the_progress(world, monkeypatch):
    from django.test import Client

    from tests.auth import login_with_mfa

    monkeypatch.setattr(batch, "_enqueue_all", lambda ids: None)
    client = login_with_mfa(Client(), world.user("pedagogue_a"))
    data = [request_data(student_iin=student_iin(i)) for i in (1, 2, 3)]
    r = _upload(client, _csv(data))
    assert r.status_code == 302, r.content.decode()[:2000]
    page = client.get(r["Location"])
    assert page.status_code == 200 and 'data-testid="class-list-progress"' in page.content.decode()
    partial = client.get(r["Location"], HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in partial.content.decode()  # still queued: it polls
    assert AidRequest.objects.count() == 3
