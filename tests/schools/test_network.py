import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from schools.identifiers import bin_error
from schools.models import District, Membership, School
from schools.services import schools_import_csv, staff_import_csv
from tests.conftest import make_bin


def test_it_seeds_the_pilot_network_reproducibly(db):
    call_command("seed_schools")
    assert School.objects.filter(connected=True).count() == 317
    assert School.objects.filter(district__region__code="KAR").count() == 202
    assert School.objects.filter(district__region__code="SHY").count() == 115
    assert all(bin_error(b) is None for b in School.objects.values_list("bin", flat=True))
    # every real unit has schools
    assert District.objects.filter(schools__isnull=True).count() == 0
    bins = set(School.objects.values_list("bin", flat=True))
    call_command("seed_schools")  # idempotent and reproducible
    assert set(School.objects.values_list("bin", flat=True)) == bins
    assert School.objects.count() == 317


def _csv(*rows: str) -> str:
    return (
        "bin,name_ru,name_kk,district,number,kind,language,student_count,connected\n"
        + "\n".join(rows)
        + "\n"
    )


def test_it_imports_a_valid_school_file(world):
    good = make_bin(501)
    result = schools_import_csv(_csv(f"{good},Школа №50,№50 мектеп,KAR-KAZ,50,school,kk,700,1"))
    assert result.ok and result.created == 1
    assert School.objects.get(bin=good).district.code == "KAR-KAZ"


def test_it_reports_bad_rows_by_line_and_field_and_imports_nothing(world):
    good = make_bin(601)
    bad_bin = good[:11] + str((int(good[11]) + 1) % 10)
    text = _csv(
        f"{good},Школа №60,,KAR-KAZ,60,school,kk,700,1",
        f"{bad_bin},Школа №61,,KAR-KAZ,61,school,kk,700,1",
        f"{make_bin(701)},Школа №62,,XXX-YYY,62,school,kk,-5,1",
    )
    before = School.objects.count()
    result = schools_import_csv(text)
    assert not result.ok
    pairs = {(e.line, e.field) for e in result.errors}
    assert (3, "bin") in pairs
    assert (4, "district") in pairs
    assert (4, "student_count") in pairs
    assert School.objects.count() == before


def test_it_fails_the_import_command_with_a_readable_message(world, tmp_path, capsys):
    f = tmp_path / "bad.csv"
    f.write_text(_csv("123,Школа,,KAR-KAZ,1,school,kk,1,1"), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_schools", str(f))
    assert "bin" in capsys.readouterr().err


STAFF_HEADER = "username,full_name,email,role,unit\n"


def test_it_imports_staff_and_sends_invitations(world, django_capture_on_commit_callbacks):
    text = STAFF_HEADER + (
        f"new_ped,Новый Педагог,new_ped@test.kz,pedagogue,{world.school_a.bin}\n"
        "new_dist,Новый Аналитик,new_dist@test.kz,district_analyst,KAR-TEM\n"
        "new_reg,Региональный Аналитик,new_reg@test.kz,region_analyst,SHY\n"
        "new_min,Министерский Аналитик,new_min@test.kz,ministry_analyst,\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = staff_import_csv(text)
    assert result.ok, result.errors
    assert result.created == 4
    assert Membership.objects.get(user__username="new_ped").school == world.school_a
    assert len(mail.outbox) == 4
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    assert not get_user_model().objects.get(username="new_ped").has_usable_password()


def test_it_refuses_a_staff_file_with_an_unknown_role_or_unit(world):
    text = STAFF_HEADER + (
        f"ok_ped,Педагог,ok@test.kz,pedagogue,{world.school_a.bin}\n"
        "x1,Икс,x1@test.kz,janitor,KAR\n"
        "x2,Игрек,x2@test.kz,pedagogue,000000000000\n"
        "x3,Зет,not-an-email,region_analyst,KAR\n"
    )
    result = staff_import_csv(text)
    pairs = {(e.line, e.field) for e in result.errors}
    assert pairs == {(3, "role"), (4, "unit"), (5, "email")}
    assert not get_user_model().objects.filter(username="ok_ped").exists()
