"""Every malformed import file answers with a message naming the line and the field: never a
traceback, and nothing is written (issue 9, item 12)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from schools.models import Membership, School
from schools.services import schools_import_file, staff_import_file
from tests.conftest import make_bin

SCHOOL_HEADER = "bin,name_ru,name_kk,district,number,kind,language,student_count,connected"
STAFF_HEADER = "username,full_name,email,role,unit"
GOOD_BIN = make_bin(811)


def _school(*rows: str, header: str = SCHOOL_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _row(**over: str) -> str:
    base = {
        "bin": GOOD_BIN,
        "name_ru": "Школа №81",
        "name_kk": "№81 мектеп",
        "district": "KAR-KAZ",
        "number": "81",
        "kind": "school",
        "language": "kk",
        "student_count": "700",
        "connected": "1",
    }
    base.update(over)
    return ",".join(base[c] for c in SCHOOL_HEADER.split(","))


def _staff(*rows: str) -> bytes:
    return ("\n".join([STAFF_HEADER, *rows]) + "\n").encode()


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# (id, importer, filename, content, (line, field) expected among the errors)
CASES = [
    ("superscript-number", "schools", "s.csv", _school(_row(number="²")), (2, "number")),
    (
        "arabic-digits-count",
        "schools",
        "s.csv",
        _school(_row(student_count="٣٠٠")),
        (2, "student_count"),
    ),
    ("fullwidth-digits", "schools", "s.csv", _school(_row(number="５")), (2, "number")),
    ("huge-number", "schools", "s.csv", _school(_row(number="9" * 40)), (2, "number")),
    (
        "int-limit-digits",
        "schools",
        "s.csv",
        _school(_row(student_count="1" * 5000)),
        (2, "student_count"),
    ),
    ("negative-count", "schools", "s.csv", _school(_row(student_count="-5")), (2, "student_count")),
    (
        "decimal-count",
        "schools",
        "s.csv",
        _school(_row(student_count="12.5")),
        (2, "student_count"),
    ),
    ("nul-in-name", "schools", "s.csv", _school(_row(name_ru="Шко\x00ла")), (2, "name_ru")),
    ("control-char", "schools", "s.csv", _school(_row(name_kk="a\x1bb")), (2, "name_kk")),
    ("name-too-long", "schools", "s.csv", _school(_row(name_ru="Ш" * 301)), (2, "name_ru")),
    ("field-over-limit", "schools", "s.csv", _school(_row(name_ru="Ш" * 200_000)), (2, "-")),
    ("unclosed-quote", "schools", "s.csv", _school(_row(), '"' + _row()), (3, "-")),
    (
        "junk-after-quote",
        "schools",
        "s.csv",
        _school('"' + GOOD_BIN + '"x,Школа,,KAR-KAZ,,,,,'),
        (2, "-"),
    ),
    ("too-many-values", "schools", "s.csv", _school(_row() + ",extra"), (2, "-")),
    (
        "duplicate-column",
        "schools",
        "s.csv",
        _school(_row() + ",x", header=SCHOOL_HEADER + ",bin"),
        (1, "bin"),
    ),
    ("missing-column", "schools", "s.csv", _school("x,y", header="bin,name_ru"), (1, "district")),
    ("empty-file", "schools", "s.csv", b"", (1, "-")),
    ("not-utf8", "schools", "s.csv", SCHOOL_HEADER.encode() + b"\n\xff\xfe,\xc0\n", (2, "-")),
    ("utf16", "schools", "s.csv", SCHOOL_HEADER.encode("utf-16"), (1, "-")),
    ("bad-kind", "schools", "s.csv", _school(_row(kind="prison")), (2, "kind")),
    ("bad-connected", "schools", "s.csv", _school(_row(connected="maybe")), (2, "connected")),
    (
        "bin-with-newline",
        "schools",
        "s.csv",
        _school(_row(bin=f'"{GOOD_BIN[:6]}\n{GOOD_BIN[6:]}"')),
        (2, "bin"),
    ),
    ("bin-unicode-digits", "schools", "s.csv", _school(_row(bin="٠" * 12)), (2, "bin")),
    ("duplicate-bin", "schools", "s.csv", _school(_row(), _row(number="82")), (3, "bin")),
    ("xlsx-not-a-zip", "schools", "s.xlsx", b"PK\x03\x04garbage", (1, "-")),
    ("xlsx-named-but-text", "schools", "s.xlsx", _school(_row()), (1, "-")),
    (
        "xlsx-float-count",
        "schools",
        "s.xlsx",
        _xlsx(
            [SCHOOL_HEADER.split(","), [GOOD_BIN, "Ш", "", "KAR-KAZ", 81, "school", "kk", 12.5, 1]]
        ),
        (2, "student_count"),
    ),
    (
        "xlsx-numeric-bin",
        "schools",
        "s.xlsx",
        _xlsx(
            [
                SCHOOL_HEADER.split(","),
                [int("0" + GOOD_BIN[1:]), "Ш", "", "KAR-KAZ", 81, "school", "kk", 1, 1],
            ]
        ),
        (2, "bin"),
    ),
    (
        "staff-bad-username",
        "staff",
        "t.csv",
        _staff("bad user!,Иван Иванов,i@test.kz,ministry_analyst,"),
        (2, "username"),
    ),
    (
        "staff-long-username",
        "staff",
        "t.csv",
        _staff("u" * 151 + ",Иван Иванов,i@test.kz,ministry_analyst,"),
        (2, "username"),
    ),
    (
        "staff-long-name",
        "staff",
        "t.csv",
        _staff("ivan," + "И" * 301 + ",i@test.kz,ministry_analyst,"),
        (2, "full_name"),
    ),
    (
        "staff-nul-email",
        "staff",
        "t.csv",
        _staff("ivan,Иван,i\x00@test.kz,ministry_analyst,"),
        (2, "email"),
    ),
    (
        "staff-unit-for-ministry",
        "staff",
        "t.csv",
        _staff("ivan,Иван,i@test.kz,ministry_analyst,KAR"),
        (2, "unit"),
    ),
    ("staff-short-row", "staff", "t.csv", _staff("ivan,Иван"), (2, "email")),
]


@pytest.mark.parametrize(
    ("importer", "filename", "content", "where"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_it_names_the_line_and_field_of_every_malformed_file(
    world, importer, filename, content, where
):
    schools_before = School.objects.count()
    users_before = get_user_model().objects.count()
    members_before = Membership.objects.count()
    if importer == "schools":
        result = schools_import_file(content, filename)
    else:
        result = staff_import_file(content, filename, send_invitations=False)
    assert not result.ok
    pairs = {(e.line, e.field) for e in result.errors}
    assert where in pairs, [str(e) for e in result.errors]
    assert all(str(e) for e in result.errors)
    assert School.objects.count() == schools_before
    assert get_user_model().objects.count() == users_before
    assert Membership.objects.count() == members_before


@pytest.mark.parametrize(
    ("importer", "filename", "content", "where"),
    [
        c[1:]
        for c in CASES
        if c[0] in {"superscript-number", "xlsx-not-a-zip", "not-utf8", "staff-bad-username"}
    ],
)
def test_it_answers_the_commands_with_a_message_not_a_traceback(
    world, tmp_path, capsys, importer, filename, content, where
):
    f = tmp_path / filename
    f.write_bytes(content)
    with pytest.raises(CommandError):
        call_command("import_schools" if importer == "schools" else "import_staff", str(f))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{where[0]}" in err


def test_it_imports_a_valid_xlsx_file(world):
    data = _xlsx(
        [
            SCHOOL_HEADER.split(","),
            [GOOD_BIN, "Школа №81", "", "KAR-KAZ", 81, "school", "kk", 700, 1],
        ]
    )
    result = schools_import_file(data, "schools.xlsx")
    assert result.ok, [str(e) for e in result.errors]
    assert School.objects.get(bin=GOOD_BIN).student_count == 700
