"""Formula injection: every CSV and XLSX export of the portal writes values that a spreadsheet
would run as a formula as text (portal/exports.py)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from portal.audit.services import audit_record
from portal.exports import csv_writer, xlsx_append

EVIL = (
    '=HYPERLINK("http://127.0.0.1/x","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
)


def _csv(rows) -> list[list[str]]:  # noqa: ANN001
    buf = io.StringIO()
    csv_writer(buf).writerows(rows)
    return list(csv.reader(io.StringIO(buf.getvalue())))


def _no_formula_in_csv(text: str) -> None:
    for row in csv.reader(io.StringIO(text)):
        for value in row:
            assert (
                not value.startswith(("=", "+", "-", "@", "\t", "\r"))
                or value.lstrip("-").replace(".", "").isdigit()
            ), value


def _no_formula_in_xlsx(content: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(content))
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts


def test_it_escapes_formulas_in_csv():
    rows = _csv([[v, 12, -5, "-5", "ok"] for v in EVIL])
    for value, row in zip(EVIL, rows, strict=True):
        assert row[0] == "'" + value.replace("|", "\\|")
        assert row[1:] == ["12", "-5", "-5", "ok"]


def test_it_stores_formulas_as_text_in_xlsx():
    wb = Workbook()
    ws = wb.active
    for v in EVIL:
        xlsx_append(ws, [v, 7])
    buf = io.BytesIO()
    wb.save(buf)
    ws2 = load_workbook(io.BytesIO(buf.getvalue())).active
    for i, v in enumerate(EVIL, start=1):
        cell = ws2.cell(i, 1)
        assert cell.data_type == "s" and cell.value == v.replace("\r", "\n") or cell.value == v
        assert cell.quotePrefix
        assert ws2.cell(i, 2).value == 7


@pytest.mark.django_db
@pytest.mark.parametrize("name", ['=HYPERLINK("http://127.0.0.1/x","click")', "+cmd|' /C calc'!A0"])
def test_a_school_named_like_a_formula_is_text_in_every_stats_export(
    world, client_for, no_enqueue, name, settings
):
    settings.STATS_MIN_CELL = 1
    world.school_a.name_ru = name
    world.school_a.save(update_fields=["name_ru"])
    for persona, params in (
        ("district_analyst", {}),
        ("region_analyst", {"level": "district", "code": "KAR-KAZ"}),
        ("pedagogue_a", {}),
    ):
        c = client_for(persona)
        text = c.get(reverse("stats:export-csv"), params).content.decode("utf-8-sig")
        assert "'" + name[:4] in text
        _no_formula_in_csv(text)
        texts = _no_formula_in_xlsx(c.get(reverse("stats:export-xlsx"), params).content)
        assert any(t == name for t in texts)


@pytest.mark.django_db
def test_the_audit_log_export_escapes_formulas(world, client_for, django_user_model):
    evil = django_user_model.objects.create_user("=HYPERLINK(1)", "x@test.kz", "pw-long-enough-1")
    audit_record(action="api_token.show", actor=evil, object_type="+cmd", object_id="@x")
    text = b"".join(client_for("auditor").get(reverse("audit:audit-event-export"))).decode()
    # The log is written in words (the object's type and id are not columns any more): the
    # person's login is, and it is escaped; nothing in the file starts a formula.
    assert "'=HYPERLINK(1)" in text
    _no_formula_in_csv(text)
