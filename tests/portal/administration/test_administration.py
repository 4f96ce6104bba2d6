"""Issue 16, administration in the browser: the network administrator manages schools and
staff (create, edit, deactivate, move, reset TOTP), each audited and through the same
validation as the imports, and runs the imports as CSV/XLSX uploads (errors by line and
field, all or nothing)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from portal.administration import services
from portal.audit.models import AuditEvent
from schools.models import Membership, Role, School
from schools.scope import scope_for
from schools.services import school_row_validate, schools_import_csv, staff_row_validate
from tests.auth import login_with_mfa, sign_in
from tests.conftest import make_bin

SCHOOL_HEADER = "bin,name_ru,name_kk,district,number,kind,language,student_count,connected\n"
STAFF_HEADER = "username,full_name,email,role,unit\n"


@pytest.fixture
def admin(client_for):
    return client_for("network_admin")


def school_post(**overrides: str) -> dict[str, str]:
    data = {
        "bin": make_bin(801),
        "name_ru": "КГУ «Школа №80»",
        "name_kk": "«№80 мектеп» КММ",
        "district": "KAR-KAZ",
        "number": "80",
        "kind": "school",
        "language": "kk",
        "student_count": "640",
    }
    data.update(overrides)
    return data


def bad_bin() -> str:
    good = make_bin(901)
    return good[:11] + str((int(good[11]) + 1) % 10)


# --------------------------------------------------------------------------- one validation


def test_the_form_and_the_import_give_the_same_errors_for_the_same_row(world, admin):
    row = school_post(bin=bad_bin(), district="XXX", student_count="-3")
    _values, direct = school_row_validate(row)
    result = schools_import_csv(SCHOOL_HEADER + ",".join([*row.values(), "1"]) + "\n")
    assert {(e.field, e.message) for e in result.errors} == set(direct)
    r = admin.post(reverse("administration:school-create"), row)
    assert r.status_code == 400
    body = r.content.decode()
    for _field, message in direct:
        assert str(message) in body
    assert not School.objects.filter(number=80).exists()


def test_the_staff_form_and_the_import_share_the_validation(world, admin):
    row = {
        "username": "pedagogue_a",
        "full_name": "",
        "email": "not-mail",
        "role": "pedagogue",
        "unit": "000000000000",
    }
    _v, direct = staff_row_validate(row)
    assert {f for f, _m in direct} == {"username", "full_name", "email", "unit"}
    r = admin.post(reverse("administration:staff-create"), row)
    assert r.status_code == 400
    body = r.content.decode()
    for _f, message in direct:
        assert str(message).replace("«", "&laquo;") in body or str(message) in body


# --------------------------------------------------------------------------- schools


def test_it_creates_edits_disconnects_and_reconnects_a_school_with_audit(world, admin):
    r = admin.post(reverse("administration:school-create"), school_post())
    assert r.status_code == 302
    school = School.objects.get(number=80)
    assert school.district.code == "KAR-KAZ" and school.connected
    created = AuditEvent.objects.get(action="school.create")
    assert created.object_id == str(school.public_id) and created.role == "network_admin"

    edit = reverse("administration:school-edit", kwargs={"public_id": school.public_id})
    assert admin.get(edit).status_code == 200
    r = admin.post(edit, school_post(student_count="700", district="KAR-TEM"))
    assert r.status_code == 302
    school.refresh_from_db()
    assert school.student_count == 700 and school.district.code == "KAR-TEM"
    assert AuditEvent.objects.get(action="school.update").detail["fields"] == [
        "student_count",
        "district",
    ]
    # Another school's BIN is refused on edit, by field.
    r = admin.post(edit, school_post(bin=world.school_b.bin))
    assert r.status_code == 400 and "школа с таким БИН уже есть" in r.content.decode()

    off = reverse("administration:school-deactivate", kwargs={"public_id": school.public_id})
    page = admin.get(off)
    assert page.status_code == 200 and 'data-testid="confirm"' in page.content.decode()
    school.refresh_from_db()
    assert school.connected  # a GET only asks
    assert admin.post(off).status_code == 302
    school.refresh_from_db()
    assert not school.connected
    assert AuditEvent.objects.filter(action="school.deactivate").count() == 1
    on = reverse("administration:school-activate", kwargs={"public_id": school.public_id})
    assert admin.post(on).status_code == 302
    school.refresh_from_db()
    assert school.connected and AuditEvent.objects.filter(action="school.activate").exists()


def test_it_lists_schools_with_search_pagination_and_empty_states(world, admin):
    url = reverse("administration:school-list")
    body = admin.get(url).content.decode()
    assert world.school_a.bin in body and world.school_c.bin in body
    body = admin.get(url, {"q": world.school_c.bin}).content.decode()
    assert world.school_c.bin in body and world.school_a.bin not in body
    body = admin.get(url, {"q": "нет такой школы"}).content.decode()
    assert 'data-testid="empty-state"' in body and "Сбросить фильтры" in body
    for n in range(30):
        School.objects.create(
            district=world.kaz,
            bin=make_bin(2000 + n * 7),
            name_ru=f"Школа {n}",
            name_kk="",
            number=200 + n,
        )
    body = admin.get(url).content.decode()
    assert "1 из 2" in body
    assert admin.get(url, {"page": "2"}).status_code == 200


def test_an_unknown_school_or_member_is_404(world, admin):
    import uuid

    for name in ("administration:school-edit", "administration:staff-edit"):
        assert admin.get(reverse(name, kwargs={"public_id": uuid.uuid4()})).status_code == 404


# --------------------------------------------------------------------------- staff


def test_it_creates_a_staff_account_with_an_invitation_and_audit(
    world, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = admin.post(
            reverse("administration:staff-create"),
            {
                "username": "new_ped",
                "full_name": "Нурланова Айжан Бековна",
                "email": "new_ped@test.kz",
                "role": "pedagogue",
                "unit": world.school_b.bin,
            },
        )
    assert r.status_code == 302
    m = Membership.objects.get(user__username="new_ped")
    assert m.school == world.school_b and not m.user.has_usable_password()
    assert len(mail.outbox) == 1 and "new_ped" in mail.outbox[0].body
    event = AuditEvent.objects.get(action="staff.create")
    assert event.object_id == str(m.public_id) and event.school_id == world.school_b.pk
    assert "Нурланова" not in str(event.detail) and "new_ped@" not in str(event.detail)


def test_it_edits_a_member_and_changes_the_role_with_the_admin_panel_group(world, admin):
    m = world.user("district_analyst").membership
    url = reverse("administration:staff-edit", kwargs={"public_id": m.public_id})
    r = admin.post(
        url,
        {"full_name": "Ким Елена", "email": "kim@test.kz", "role": "auditor", "unit": ""},
    )
    assert r.status_code == 302
    m.refresh_from_db()
    m.user.refresh_from_db()
    assert m.role == Role.AUDITOR and m.district is None and m.user.is_staff
    assert m.user.groups.filter(name="auditor").exists()
    assert set(AuditEvent.objects.get(action="staff.update").detail["fields"]) == {
        "full_name",
        "email",
        "role",
        "unit",
    }
    # An analyst's unit is checked the same way: a wrong district code is a field error.
    r = admin.post(
        url,
        {
            "full_name": "Ким Елена",
            "email": "kim@test.kz",
            "role": "district_analyst",
            "unit": "NOPE",
        },
    )
    assert r.status_code == 400 and "район с кодом «NOPE» не найден" in r.content.decode()


def test_it_moves_a_pedagogue_to_another_school(world, admin):
    ped = world.user("pedagogue_a")
    url = reverse("administration:staff-move", kwargs={"public_id": ped.membership.public_id})
    assert admin.get(url).status_code == 200
    r = admin.post(url, {"school": str(world.school_c.public_id)})
    assert r.status_code == 302
    ped.membership.refresh_from_db()
    assert ped.membership.school == world.school_c
    assert scope_for(ped).school_ids == frozenset({world.school_c.pk})
    event = AuditEvent.objects.get(action="staff.move")
    assert event.detail == {
        "from_school": str(world.school_a.public_id),
        "to_school": str(world.school_c.public_id),
    }
    # The same school again, an unknown school, an analyst: refused with a message.
    r = admin.post(url, {"school": str(world.school_c.public_id)})
    assert r.status_code == 400 and "уже работает в этой школе" in r.content.decode()
    r = admin.post(url, {"school": "not-a-school"})
    assert r.status_code == 400
    analyst = world.user("district_analyst").membership
    r = admin.post(
        reverse("administration:staff-move", kwargs={"public_id": analyst.public_id}),
        {"school": str(world.school_c.public_id)},
    )
    assert r.status_code == 400
    assert AuditEvent.objects.filter(action="staff.move").count() == 1


def test_a_deactivated_member_cannot_sign_in_and_can_be_switched_on(world, admin):
    ped = world.user("pedagogue_b")
    their_session = login_with_mfa(Client(), ped)
    assert their_session.get(reverse("portal:home")).status_code == 200
    url = reverse("administration:staff-deactivate", kwargs={"public_id": ped.membership.public_id})
    assert "Отключить учётную запись" in admin.get(url).content.decode()
    assert admin.post(url).status_code == 302
    ped.refresh_from_db()
    assert not ped.is_active
    assert their_session.get(reverse("portal:home")).status_code == 302  # signed out
    r = sign_in(Client(), "pedagogue_b")
    assert r.status_code == 302 and r["Location"] == reverse("account_inactive")
    assert AuditEvent.objects.filter(action="staff.deactivate").count() == 1
    on = reverse("administration:staff-activate", kwargs={"public_id": ped.membership.public_id})
    admin.post(on)
    ped.refresh_from_db()
    assert ped.is_active and AuditEvent.objects.filter(action="staff.activate").exists()


def test_a_network_admin_cannot_switch_off_their_own_account(world, admin):
    me = world.user("network_admin")
    url = reverse("administration:staff-deactivate", kwargs={"public_id": me.membership.public_id})
    r = admin.post(url, follow=True)
    assert "Нельзя отключить собственную учётную запись" in r.content.decode()
    me.refresh_from_db()
    assert me.is_active


def test_a_reset_totp_is_enrolled_again_at_the_next_sign_in(world, admin):
    from allauth.mfa.models import Authenticator

    ped = world.user("pedagogue_a")
    assert Authenticator.objects.filter(user=ped).exists()
    url = reverse("administration:staff-mfa-reset", kwargs={"public_id": ped.membership.public_id})
    page = admin.get(url).content.decode()
    assert "Сбросить второй фактор" in page
    assert Authenticator.objects.filter(user=ped).exists()  # GET only asks
    assert admin.post(url).status_code == 302
    assert not Authenticator.objects.filter(user=ped).exists()
    event = AuditEvent.objects.get(action="staff.mfa_reset")
    assert event.detail["removed"] >= 1
    c = Client()
    r = sign_in(c, "pedagogue_a")
    assert r.status_code == 302
    r = c.get(reverse("requests:aid-request-list"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("mfa_activate_totp"))


def test_a_network_admin_needs_totp_like_every_staff_role(world):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=world.user("network_admin")).delete()
    c = Client()
    sign_in(c, "network_admin")
    r = c.get(reverse("administration:home"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("mfa_activate_totp"))


def test_a_network_admin_sees_no_family_data(world, client_for):
    scope = scope_for(world.user("network_admin"))
    assert scope.is_network_admin and not scope.sees_family_data
    c = client_for("network_admin")
    assert c.get(reverse("requests:aid-request-list")).status_code == 403
    assert c.get(reverse("audit:audit-event-list")).status_code == 403


def test_the_services_refuse_other_roles(world):
    from django.core.exceptions import PermissionDenied

    user = world.user("rules_admin")
    with pytest.raises(PermissionDenied):
        services.school_create(scope=scope_for(user), actor=user, data=school_post())


def test_it_lists_staff_with_search_and_filters(world, admin):
    url = reverse("administration:staff-list")
    body = admin.get(url).content.decode()
    assert "pedagogue_a" in body and "ministry_analyst" in body
    body = admin.get(url, {"role": "auditor"}).content.decode()
    assert 'data-username="auditor"' in body and 'data-username="pedagogue_a"' not in body
    body = admin.get(url, {"q": "zzzz"}).content.decode()
    assert 'data-testid="empty-state"' in body


# --------------------------------------------------------------------------- imports


def test_an_upload_with_errors_imports_nothing_and_names_line_and_field(world, admin):
    text = (
        SCHOOL_HEADER
        + f"{make_bin(1101)},Школа №90,,KAR-KAZ,90,school,kk,700,1\n"
        + f"{bad_bin()},Школа №91,,KAR-KAZ,91,school,kk,700,1\n"
        + f"{make_bin(1201)},Школа №92,,XXX,92,school,kk,700,1\n"
    )
    before = School.objects.count()
    r = admin.post(
        reverse("administration:import-schools"),
        {"file": SimpleUploadedFile("schools.csv", text.encode(), content_type="text/csv")},
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert 'data-testid="import-errors"' in body
    assert "<td>3</td><td><code>bin</code></td>" in body
    assert "<td>4</td><td><code>district</code></td>" in body
    assert School.objects.count() == before
    assert not AuditEvent.objects.filter(action="school.import").exists()


def test_an_xlsx_upload_of_schools_imports_every_row_and_is_audited(world, admin):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(SCHOOL_HEADER.strip().split(","))
    ws.append([make_bin(1301), "Школа №93", "", "KAR-KAZ", 93, "school", "ru", 510, 1])
    ws.append([make_bin(1401), "Школа №94", "№94 мектеп", "SHY-ALF", 94, "lyceum", "kk", 820, 1])
    buf = io.BytesIO()
    wb.save(buf)
    r = admin.post(
        reverse("administration:import-schools"),
        {"file": SimpleUploadedFile("schools.xlsx", buf.getvalue())},
    )
    assert r.status_code == 302
    assert School.objects.filter(number__in=[93, 94]).count() == 2
    assert School.objects.get(number=94).district.code == "SHY-ALF"
    assert AuditEvent.objects.get(action="school.import").detail["created"] == 2


def test_a_staff_upload_creates_accounts_or_reports_the_rows(
    world, admin, django_capture_on_commit_callbacks
):
    url = reverse("administration:import-staff")
    bad = (
        STAFF_HEADER
        + f"x1,Иванов Иван,x1@test.kz,pedagogue,{world.school_a.bin}\nx2,,bad,nobody,\n"
    )
    r = admin.post(url, {"file": SimpleUploadedFile("staff.csv", bad.encode())})
    assert r.status_code == 400
    body = r.content.decode()
    assert "<td>3</td><td><code>full_name</code></td>" in body
    assert "<td>3</td><td><code>role</code></td>" in body
    assert not get_user_model().objects.filter(username="x1").exists()
    good = STAFF_HEADER + f"x1,Иванов Иван,x1@test.kz,pedagogue,{world.school_a.bin}\n"
    with django_capture_on_commit_callbacks(execute=True):
        r = admin.post(url, {"file": SimpleUploadedFile("staff.csv", good.encode())})
    assert r.status_code == 302
    assert Membership.objects.get(user__username="x1").school == world.school_a
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.get(action="staff.import").detail["created"] == 1


def test_an_unreadable_upload_is_a_field_error(world, admin):
    url = reverse("administration:import-schools")
    for name, content in (
        ("x.csv", b"\xff\xfe\x00bad"),
        ("x.xlsx", b"PK\x03\x04 not really"),
        ("x.pdf", b"%PDF-1.4"),
        ("x.csv", b""),
    ):
        r = admin.post(url, {"file": SimpleUploadedFile(name, content)})
        assert r.status_code == 400, name
        assert 'data-testid="error-file"' in r.content.decode(), name


@pytest.mark.parametrize(
    ("language", "heading", "schools", "staff"),
    [
        ("kk", "Желінің мектептері мен қызметкерлері", "Мектеп қосу", "Қызметкер қосу"),
        ("en", "Schools and staff of the network", "Add a school", "Add a staff member"),
    ],
)
def test_the_pages_speak_the_administrators_language(
    world, admin, language, heading, schools, staff
):
    from django.conf import settings

    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    assert heading in admin.get(reverse("administration:home")).content.decode()
    assert schools in admin.get(reverse("administration:school-list")).content.decode()
    body = admin.get(reverse("administration:staff-list")).content.decode()
    assert staff in body and "Добавить сотрудника" not in body
