import pytest

from schools.identifiers import bin_error, iin_birth_date, iin_error, iin_sex, make_identifier


@pytest.mark.parametrize("iin", ["061211600012", "100515501231", "850307300124", "120902500338"])
def test_it_accepts_the_documented_valid_iins(iin):
    assert iin_error(iin) is None


def test_it_names_the_reason_an_iin_is_invalid():
    assert iin_error("06121160001") == "format"
    assert iin_error("06121160001X") == "format"
    assert iin_error("061311600012") == "date"  # month 13
    assert iin_error("061211900012") == "date"  # century digit 9
    assert iin_error("061211600013") == "checksum"


def test_it_reads_birth_date_and_sex():
    import datetime as dt

    assert iin_birth_date("850307300124") == dt.date(1985, 3, 7)
    assert iin_sex("850307300124") == "M"
    assert iin_sex("061211600012") == "F"


def test_it_uses_the_second_weights_when_the_first_sum_gives_ten():
    # Find a prefix whose first-pass remainder is 10 and check make_identifier agrees.
    for n in range(10_000):
        prefix = f"9901404{n:04d}"
        first = sum(int(d) * w for d, w in zip(prefix, range(1, 12), strict=True)) % 11
        if first == 10:
            value = make_identifier(prefix)
            if value is not None:
                assert bin_error(value) is None
                break
    else:  # pragma: no cover
        pytest.fail("no prefix exercised the second weights")


def test_it_rejects_a_bin_with_a_wrong_check_digit():
    value = make_identifier("99014000001")
    assert bin_error(value) is None
    wrong = value[:11] + str((int(value[11]) + 1) % 10)
    assert bin_error(wrong) == "checksum"


# --------------------------------------------------------------------------- strict matching
# An identifier is exactly twelve ASCII digits. Python's ``$`` also matches before a final
# newline and ``str.isdigit`` accepts every Unicode digit (and ``²``), so the old checks let
# ``"…\n"`` or ``"٠٦١٢…"`` through, or crashed on ``"²"``.

VALID_IIN = "061211600012"
VALID_BIN = make_identifier("99014000001")
_ARABIC = "٠١٢٣٤٥٦٧٨٩"
_FULLWIDTH = "０１２３４５６７８９"


def _foreign_digits(value: str, digits: str = _ARABIC, keep: tuple[int, ...] = ()) -> str:
    return "".join(ch if i in keep else digits[int(ch)] for i, ch in enumerate(value))


def _lookalikes(value: str) -> list[str]:
    return [
        value + "\n",
        value + "\r\n",
        "\n" + value,
        " " + value,
        value + " ",
        value[:6] + " " + value[6:11],
        _foreign_digits(value),
        _foreign_digits(value, keep=(6,)),  # century digit ASCII: date and checksum "work"
        _foreign_digits(value, _FULLWIDTH, keep=(6,)),
        "²" * 12,
        "¹" * 6 + value[6:],
        value[:11] + "²",
    ]


@pytest.mark.parametrize("value", _lookalikes(VALID_IIN))
def test_it_refuses_anything_but_exactly_twelve_ascii_digits_as_an_iin(value):
    from schools.identifiers import is_valid_iin

    assert iin_error(value) == "format"
    assert not is_valid_iin(value)
    assert iin_birth_date(value) is None
    assert iin_sex(value) is None


@pytest.mark.parametrize("value", _lookalikes(VALID_BIN))
def test_it_refuses_anything_but_exactly_twelve_ascii_digits_as_a_bin(value):
    assert bin_error(value) == "format"  # and never a ValueError from int("²")


@pytest.mark.parametrize("value", [None, 61211600012, b"061211600012", ["061211600012"]])
def test_it_refuses_non_strings(value):
    assert iin_error(value) == "format"
    assert bin_error(value) == "format"


def test_it_refuses_to_make_an_identifier_from_anything_but_eleven_ascii_digits():
    for bad in ["0612116000", "06121160001\n", _foreign_digits("06121160001"), "²" * 11]:
        with pytest.raises(ValueError):
            make_identifier(bad)


# --------------------------------------------------------------------------- entry points

_SCHOOL_HEADER = "bin,name_ru,name_kk,district,number,kind,language,student_count,connected\n"


@pytest.mark.parametrize(
    "bad", [_foreign_digits(VALID_BIN), "²" * 12, _foreign_digits(VALID_BIN, _FULLWIDTH)]
)
def test_it_refuses_a_school_bin_in_other_digits_in_the_import(world, bad):
    from schools.models import School
    from schools.services import schools_import_csv

    before = School.objects.count()
    result = schools_import_csv(
        _SCHOOL_HEADER
        + f"{VALID_BIN},Школа №90,№90 мектеп,KAR-KAZ,90,school,kk,700,1\n"
        + f"{bad},Школа №91,№91 мектеп,KAR-KAZ,91,school,kk,700,1\n"
    )
    assert [(e.line, e.field) for e in result.errors] == [(3, "bin")]
    assert School.objects.count() == before  # nothing half-imported


def _api_payload(**overrides):
    """An aid request for the public API, built here (no portal test helpers imported)."""
    import datetime as dt

    from django.utils import timezone

    birth = dt.date(2014, 5, 12)
    student = next(
        v for s in range(1, 50) if (v := make_identifier(f"{birth:%y%m%d}5{s:04d}")) is not None
    )
    guardian = next(v for s in range(1, 50) if (v := make_identifier(f"8503044{s:04d}")))
    today = timezone.localdate()
    payload = {
        "student_iin": student,
        "student_full_name": "Ахметов Ерлан",
        "grade": 5,
        "guardian_iin": guardian,
        "guardian_full_name": "Ахметова Гульнара",
        "guardian_phone": "+77011234567",
        "ground": "below_subsistence",
        "aid_kind": "uniform",
        "amount_kzt": 50851,
        "academic_year": f"{today.year}-{today.year + 1}",
        "comment": "",
        "consent": {
            "method": "egov_sms",
            "reference": "SMS-123",
            "given_on": (today - dt.timedelta(days=1)).isoformat(),
            "valid_until": (today + dt.timedelta(days=365)).isoformat(),
        },
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def api(world, monkeypatch):
    from django.db import transaction
    from rest_framework.test import APIClient

    monkeypatch.setattr(transaction, "on_commit", lambda fn, using=None, robust=False: None)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(world.user("pedagogue_a"))
    return client


def test_the_api_accepts_the_ascii_payload(api):
    r = api.post("/api/v1/aid-requests/", _api_payload(), format="json")
    assert r.status_code == 201, r.content


@pytest.mark.parametrize("field", ["student_iin", "guardian_iin"])
def test_the_api_refuses_an_iin_written_in_other_digits(api, field):
    from portal.requests.models import AidRequest

    good = _api_payload()[field]
    for bad in (_foreign_digits(good, keep=(6,)), _foreign_digits(good, _FULLWIDTH, keep=(6,))):
        r = api.post("/api/v1/aid-requests/", _api_payload(**{field: bad}), format="json")
        assert r.status_code == 400, r.content
        assert field in r.json()
    assert not AidRequest.objects.unscoped().exists()


def test_the_request_form_refuses_an_iin_written_in_other_digits(world, client_for):
    bad = _foreign_digits(_api_payload()["student_iin"], keep=(6,))
    r = client_for("pedagogue_a").post(
        "/requests/validate-iin/", {"field": "student_iin", "student_iin": bad}
    )
    assert r.status_code == 200
    assert "text-danger" in r.content.decode()
