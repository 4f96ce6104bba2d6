"""CSV and XLSX files read into the same numbered rows (schools/tables.py), for the import
commands and the upload pages alike."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from schools.models import School
from schools.tables import MAX_UPLOAD_BYTES, TableError, table_from_upload
from tests.conftest import make_bin

HEADER = ["bin", "name_ru", "name_kk", "district", "number", "kind", "language", "student_count"]


def xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_csv_and_xlsx_give_the_same_rows_and_line_numbers():
    rows = [HEADER, ["990140000116", "Школа", "", "KAR-KAZ", 5, "school", "kk", 700], []]
    rows.append(["990140000224", "Школа 2", "", "KAR-KAZ", None, "school", "ru", 1.0])
    csv_text = "\ufeff" + "\n".join(
        ",".join("" if v is None else str(int(v) if isinstance(v, float) else v) for v in r)
        for r in rows
    )
    a = table_from_upload("s.csv", csv_text.encode("utf-8"))
    b = table_from_upload("s.xlsx", xlsx(rows))
    assert a.fieldnames == b.fieldnames == HEADER
    assert a.rows == b.rows
    assert [line for line, _cells in b.rows] == [2, 4]  # the blank line 3 is skipped
    assert b.rows[1][1]["student_count"] == "1" and b.rows[0][1]["number"] == "5"


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("a.csv", b"", "пуст"),
        ("a.csv", "bin\n\u00e9".encode("latin-1"), "UTF-8"),
        ("a.xlsx", b"PK\x03\x04garbage", "Excel"),
        ("a.doc", b"hello", "CSV или XLSX"),
        ("a.csv", b"x" * (MAX_UPLOAD_BYTES + 1), "слишком большой"),
    ],
)
def test_an_unreadable_file_is_one_clear_error(name, data, words):
    with pytest.raises(TableError, match=words):
        table_from_upload(name, data)


def test_the_import_command_reads_xlsx(world, tmp_path):
    path = tmp_path / "schools.xlsx"
    path.write_bytes(
        xlsx([HEADER, [make_bin(3001), "Школа №77", "", "KAR-KAZ", 77, "school", "kk", 300]])
    )
    call_command("import_schools", str(path))
    assert School.objects.get(number=77).student_count == 300
