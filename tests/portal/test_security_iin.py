"""The ИИН behind a keyed hash (issue 9, item 7): no unique key of ours holds an ИИН, a name or a
phone, so PostgreSQL's DETAIL line of a violated key (which its log records) carries none; the
log reference is keyed; the ИИН never travels in a URL."""

from __future__ import annotations

import hashlib
import importlib

import pytest
from django.apps import apps as django_apps
from django.core.checks import run_checks
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from portal.requests.models import AidRequest
from schools.iinkey import iin_digest, iin_ref
from tests.portal.factories import request_data, submit

pytestmark = pytest.mark.django_db

PERSONAL_COLUMNS = ("iin", "full_name", "phone", "comment", "card")
# The family card simulator stands in for the external card service (synthetic cards, keyed by
# ИИН by that service's contract); it writes with ON CONFLICT and is never installed in
# production (komek.E001).
EXEMPT_TABLES = {"familycard_sim_simulatedcard", "familycard_sim_simulatedunknownperson"}


def test_a_violated_unique_key_names_no_iin_name_or_phone(world):
    req = submit(world)
    data = request_data()
    twin = AidRequest(school_id=req.school_id, created_by=req.created_by, **data)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        twin.save()
    message = str(caught.value)  # the server's own error text, DETAIL line included
    assert "aidrequest_one_open_per_student_kind_year" in message
    assert "student_iin_hmac" in message
    for value in (
        data["student_iin"],
        data["guardian_iin"],
        data["student_full_name"],
        data["guardian_full_name"],
        data["guardian_phone"],
    ):
        assert value not in message


def test_no_unique_key_of_ours_holds_a_personal_column():
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT t.relname, a.attname
              FROM pg_index i
              JOIN pg_class t ON t.oid = i.indrelid
              JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)
             WHERE i.indisunique
            """
        )
        rows = cur.fetchall()
    offending = [
        (table, column)
        for table, column in rows
        if table not in EXEMPT_TABLES
        and any(p in column for p in PERSONAL_COLUMNS)
        and not column.endswith("_hmac")
    ]
    assert not offending


def test_the_digest_is_keyed_and_stored_on_every_save(world, settings):
    req = submit(world)
    assert req.student_iin_hmac == iin_digest(req.student_iin)
    assert req.guardian_iin_hmac == iin_digest(req.guardian_iin)
    assert req.student_iin not in req.student_iin_hmac
    assert req.student_iin_hmac != hashlib.sha256(req.student_iin.encode()).hexdigest()
    before = iin_digest(req.student_iin), iin_ref(req.student_iin)
    settings.IIN_HMAC_KEY = "another-key-" + "x" * 40
    assert (iin_digest(req.student_iin), iin_ref(req.student_iin)) != before


def test_the_log_reference_is_not_the_unkeyed_hash():
    iin = request_data()["student_iin"]
    ref = iin_ref(iin)
    assert ref.startswith("iin#") and len(ref) == 14
    assert ref != "iin#" + hashlib.sha256(iin.encode()).hexdigest()[:10]
    assert ref[4:] not in iin_digest(iin)


def test_an_exact_iin_search_goes_through_the_digest(world):
    from portal.requests.selectors import aid_requests_for_scope
    from schools.scope import scope_for

    req = submit(world)
    scope = scope_for(world.user("pedagogue_a"))
    rec = _Recorder()
    with connection.execute_wrapper(rec):
        found = list(aid_requests_for_scope(scope=scope, search=req.student_iin))
    assert found == [req]
    assert all(req.student_iin not in sql for sql in rec.params_text)


class _Recorder:
    def __init__(self) -> None:
        self.params_text: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        self.params_text.append(sql + repr(params))
        return execute(sql, params, many, context)


def test_the_data_migration_fills_the_digests_of_existing_rows(world):
    req = submit(world)
    AidRequest.objects.filter(pk=req.pk).update(student_iin_hmac="", guardian_iin_hmac="")
    migration = importlib.import_module("portal.migrations.0005_aidrequest_iin_hmac")
    migration.fill_iin_digests(django_apps, None)
    req.refresh_from_db()
    assert req.student_iin_hmac == iin_digest(req.student_iin)
    assert req.guardian_iin_hmac == iin_digest(req.guardian_iin)


@pytest.mark.parametrize(
    ("key", "refused"),
    [("", True), ("short", True), ("a-real-secret-" + "k" * 40, False)],
)
def test_production_refuses_a_missing_or_weak_iin_key(key, refused):
    with override_settings(DEBUG=False, IIN_HMAC_KEY=key):
        ids = {m.id for m in run_checks(tags=["komek"])}
    assert ("komek.E010" in ids) is refused


def test_the_development_key_is_refused_outside_tests(monkeypatch):
    from django.conf import settings

    monkeypatch.delenv("KOMEK_TESTING", raising=False)
    with override_settings(DEBUG=False, IIN_HMAC_KEY=settings.IIN_HMAC_DEV_KEY):
        ids = {m.id for m in run_checks(tags=["komek"])}
    assert "komek.E010" in ids


def test_the_live_iin_check_is_posted_never_a_get(client_for):
    c = client_for("pedagogue_a")
    iin = request_data()["student_iin"]
    assert c.get("/requests/validate-iin/", {"student_iin": iin}).status_code == 405
    page = c.get("/requests/new/").content.decode()
    assert 'hx-post="/requests/validate-iin/"' in page
    assert "hx-get" not in page or "iin" not in page.split("hx-get", 1)[1][:200]
    r = c.post("/requests/validate-iin/", {"field": "student_iin", "student_iin": iin})
    assert r.status_code == 200


def test_iin_rehash_follows_a_new_key(world, settings):
    import io

    from django.core.management import call_command

    req = submit(world)
    settings.IIN_HMAC_KEY = "rotated-key-" + "r" * 40
    out = io.StringIO()
    call_command("iin_rehash", stdout=out)
    assert out.getvalue().strip() == "1"
    req.refresh_from_db()
    assert req.student_iin_hmac == iin_digest(req.student_iin)


def test_the_application_role_keeps_statement_text_and_detail_out_of_the_server_log():
    """Django binds parameters on the client: a failing statement's text (which PostgreSQL logs
    at ERROR by default) holds the ИИН and names, and a CHECK violation's DETAIL the whole row.
    The launcher sets the application role's logging so that neither is written."""
    from portal.launcher import APP_ROLE_LOG_SETTINGS
    from tests.dburl import app_role

    found = app_role()
    if found is None:
        pytest.skip("no application role (run through portal.launcher / make test)")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT unnest(setconfig) FROM pg_db_role_setting s JOIN pg_roles r "
            "ON r.oid = s.setrole WHERE r.rolname = %s AND s.setdatabase = 0",
            [found[0]],
        )
        settings_ = dict(row[0].split("=", 1) for row in cur.fetchall())
    assert settings_ == {**settings_, **APP_ROLE_LOG_SETTINGS}


def test_a_search_by_iin_or_name_never_enters_a_url(world, client_for, no_enqueue):
    from django.urls import reverse

    from tests.portal.factories import student_iin

    for serial in range(1, 24):  # more than one page
        submit(world, student_iin=student_iin(serial), student_full_name="Иванов Пётр")
    iin = student_iin(3)
    c = client_for("pedagogue_a")
    url = reverse("requests:aid-request-list")
    posted = c.post(url, {"q": iin})
    assert posted.status_code == 302 and iin not in posted["Location"]
    assert "qref=" in posted["Location"]
    page = c.get(posted["Location"]).content.decode()
    assert page.count('data-testid="request-row"') == 1 or iin in page
    # a link that carries an ИИН is sent to its reference; so is a name
    for q in (iin, iin[:6], "Иванов"):
        r = c.get(url, {"q": q})
        assert r.status_code == 302 and q not in r["Location"]
    by_name = c.get(c.get(url, {"q": "Иванов"})["Location"]).content.decode()
    assert "Иванов" not in by_name.split('class="pagination"', 1)[-1].split("</nav>", 1)[0]
    assert "qref=" in by_name  # the pages of the result keep the reference
    # the HTMX search swaps the table and pushes the reference, never the ИИН
    hx = c.post(url, {"q": iin}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="aid-request-table")
    assert hx.status_code == 200 and iin not in hx["HX-Push-Url"] and "qref=" in hx["HX-Push-Url"]
    # another session does not know the reference
    other = client_for("pedagogue_a").get(posted["Location"]).content.decode()
    assert "Поиск устарел" in other


def test_the_api_searches_by_iin_in_the_body(world, no_enqueue):
    from django.urls import reverse
    from rest_framework.test import APIClient

    from tests.portal.factories import student_iin

    submit(world)
    submit(world, student_iin=student_iin(2))
    c = APIClient()
    c.force_authenticate(world.user("pedagogue_a"))
    url = reverse("api:aid-request-search")
    r = c.post(url, {"q": student_iin(2)}, format="json")
    assert r.status_code == 200 and r.json()["count"] == 1
    assert c.post(url, {"q": "", "page": 9}, format="json").status_code == 400
    assert c.post(url, {"status": "nope"}, format="json").json().keys() == {"status"}
    other = APIClient()
    other.force_authenticate(world.user("pedagogue_c"))
    assert other.post(url, {"q": student_iin(2)}, format="json").json()["count"] == 0
