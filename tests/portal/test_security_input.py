"""Bad input reaching the API (issue 9, item 12): body size, exact and bounded JSON, and a fuzz of
every API route's query parameters and bodies — a malformed value is a 4xx naming the field,
never a 500."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from portal.requests.models import AidRequest
from tests.portal.factories import api_payload, submit

pytestmark = pytest.mark.django_db

MALFORMED_VALUES = [
    "",
    " ",
    "abc",
    "-1",
    "0",
    "999999999999999999999999999999",
    "1e400",
    "1.5",
    "NaN",
    "²",
    "٣",
    "\x00",
    "a\x00b",
    "\u202e",
    "x" * 5000,
    "'; DROP TABLE portal_aidrequest; --",
    "%",
    "2026-13-45",
    "../../etc/passwd",
    "[]",
    "{}",
]
API_QUERY_PARAMS = {
    "api:aid-request-list": [
        "status",
        "ground",
        "aid_kind",
        "academic_year",
        "category",
        "q",
        "sort",
        "page",
        "page_size",
        "format",
    ],
    "api:stats": [
        "level",
        "code",
        "academic_year",
        "month_from",
        "month_to",
        "aid_kind",
        "ground",
        "format",
    ],
}


def _api(world, persona: str = "pedagogue_a"):
    from rest_framework.test import APIClient

    api = APIClient(raise_request_exception=False)
    api.force_authenticate(world.user(persona))
    return api


@pytest.mark.parametrize("name", sorted(API_QUERY_PARAMS))
@pytest.mark.parametrize("persona", ["pedagogue_a", "ministry_analyst", "auditor"])
def test_no_malformed_query_parameter_answers_500(world, name, persona):
    api = _api(world, persona)
    url = reverse(name)
    failures = []
    for param in API_QUERY_PARAMS[name]:
        for value in MALFORMED_VALUES:
            r = api.get(url, {param: value})
            if r.status_code >= 500:
                failures.append((param, value[:20], r.status_code))
    assert not failures


@pytest.mark.parametrize(
    ("param", "value"),
    [("category", "abc"), ("category", "9" * 30), ("q", "a\x00b"), ("status", "\x00")],
)
def test_a_malformed_list_filter_is_a_400_naming_it(world, param, value):
    r = _api(world).get(reverse("api:aid-request-list"), {param: value})
    assert r.status_code == 400
    assert param in r.json()


def _bodies() -> list[object]:
    good = api_payload()
    return [
        b"",
        b"{",
        b"[1, 2",
        b"null",
        b"[]",
        b"1",
        b'"text"',
        b'{"a": NaN}',
        b'{"a": 1, "a": 2}',
        b'{"a": "\\ud800"}',
        b"\xff\xfe\x00",
        ("[" * 5000 + "]" * 5000).encode(),
        {**good, "grade": "²"},
        {**good, "grade": 1.5},
        {**good, "grade": 10**30},
        {**good, "amount_kzt": "1e400"},
        {**good, "amount_kzt": [1]},
        {**good, "student_iin": 123},
        {**good, "student_iin": {"x": 1}},
        {**good, "student_full_name": "a\x00b"},
        {**good, "consent": "yes"},
        {**good, "consent": {"method": "egov_sms", "given_on": "9999-99-99"}},
        {**good, "consent": {**good["consent"], "given_on": "0001-01-01"}},
        {**good, "academic_year": "9999-10000"},
        {**good, "outcome": "approved", "amount_kzt": -1},
        {"outcome": "approved", "amount_kzt": "1e400"},
        {"outcome": ["approved"]},
        {"outcome": "rejected", "reason": "x" * 100_000},
    ]


def _send(api, url: str, body: object):
    if isinstance(body, bytes):
        return api.post(url, data=body, content_type="application/json")
    raw = json.dumps(body, default=str).replace(str(10**30), "1" + "0" * 30)
    raw = raw.replace('"amount_kzt": "1e400"', '"amount_kzt": 1e400')
    return api.post(url, data=raw, content_type="application/json")


def test_no_malformed_body_answers_500(world):
    req = submit(world)
    api = _api(world)
    failures = []
    for name in (
        "api:aid-request-list",
        "api:aid-request-decision",
        "api:aid-request-contest",
        "api:aid-request-withdraw",
    ):
        kwargs = {} if name == "api:aid-request-list" else {"public_id": req.public_id}
        url = reverse(name, kwargs=kwargs)
        for body in _bodies():
            r = _send(api, url, body)
            if r.status_code >= 500:
                failures.append((name, repr(body)[:40], r.status_code))
    assert not failures
    assert AidRequest.objects.count() == 1


def test_a_25_mb_json_body_is_refused_with_413_and_a_message(world):
    body = b'{"comment": "' + b"x" * (25 * 1024 * 1024) + b'"}'
    r = _api(world).post(
        reverse("api:aid-request-list"), data=body, content_type="application/json"
    )
    assert r.status_code == 413
    assert "МБ" in r.json()["detail"] or "КБ" in r.json()["detail"]


def test_a_body_over_the_parser_limit_without_a_length_is_refused(world, settings):
    """The parser reads at most the limit, whatever Content-Length claims."""
    from rest_framework.test import APIRequestFactory

    from portal.api.parsers import LimitedJSONParser, RequestBodyTooLarge

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    request = APIRequestFactory().post(
        "/", data=b"[" + b"1," * 2000 + b"1]", content_type="application/json"
    )
    request.META.pop("CONTENT_LENGTH", None)
    with pytest.raises(RequestBodyTooLarge):
        LimitedJSONParser().parse(request, parser_context={"request": request})


def test_the_api_parser_reads_numbers_exactly(world):
    from decimal import Decimal

    from rest_framework.test import APIRequestFactory

    from portal.api.parsers import LimitedJSONParser

    request = APIRequestFactory().post(
        "/", data=b'{"a": 0.1, "b": 1e-400, "c": 5}', content_type="application/json"
    )
    doc = LimitedJSONParser().parse(request, parser_context={"request": request})
    assert doc == {"a": Decimal("0.1"), "b": Decimal("1e-400"), "c": 5}
    assert type(doc["a"]) is Decimal and type(doc["c"]) is int
