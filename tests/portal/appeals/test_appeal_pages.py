"""The appeal pages and API as their users meet them: the pedagogue files from the request page
(with files), the district's reviewer reads only the appeals of the district — every view
audited — and records the outcome; the overdue ones are flagged on the list and in the
district's statistics."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.appeals.models import Appeal
from portal.audit.models import AuditEvent
from portal.notices.models import Notice
from tests.portal.appeals.helpers import decided, forged_pdf, png_file, salary_path


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _file_in_browser(client_for, req, **data):
    c = client_for("pedagogue_a")
    url = reverse("appeals:appeal-create", args=[req.public_id])
    return c, c.post(url, {"reason": "Доход семьи ниже, чем в карте.", **data}, follow=True)


def test_the_pedagogue_files_from_the_request_page(world, client_for, no_enqueue):
    req = decided(world)
    c = client_for("pedagogue_a")
    page = c.get(reverse("requests:aid-request-detail", args=[req.public_id])).content.decode()
    assert reverse("appeals:appeal-create", args=[req.public_id]) in page
    form = c.get(reverse("appeals:appeal-create", args=[req.public_id]))
    assert form.status_code == 200
    assert "зарплата" in form.content.decode()  # the disputable fields, in words
    path, salary = salary_path(req)
    _c, r = _file_in_browser(
        client_for, req, path_0=path, claimed_0=str(salary + 5000), attachments=[png_file()]
    )
    assert r.status_code == 200
    assert "Жалоба подана" in r.content.decode()
    appeal = Appeal.objects.get(request=req)
    assert appeal.disputed[0]["claimed"] == salary + 5000
    assert appeal.attachments.count() == 1


def test_bad_input_on_the_form_names_the_field(world, client_for, no_enqueue):
    req = decided(world)
    path, _salary = salary_path(req)
    c = client_for("pedagogue_a")
    url = reverse("appeals:appeal-create", args=[req.public_id])
    r = c.post(url, {"reason": "Не согласны", "path_0": path, "claimed_0": "много"})
    assert r.status_code == 400
    assert "Значение не того вида" in r.content.decode()
    r = c.post(url, {"reason": "Не согласны", "attachments": [forged_pdf()]})
    assert r.status_code == 400 and "virus.pdf" in r.content.decode()
    r = c.post(url, {"reason": ""})
    assert r.status_code == 400 and "Опишите, с чем семья не согласна" in r.content.decode()
    assert not Appeal.objects.exists()


def test_the_reviewer_sees_only_the_districts_appeals_and_each_view_is_audited(
    world, client_for, no_enqueue
):
    req = decided(world)
    _c, _r = _file_in_browser(client_for, req, attachments=[png_file()])
    appeal = Appeal.objects.get()
    reviewer = client_for("district_reviewer")
    listing = reviewer.get(reverse("appeals:appeal-list")).content.decode()
    assert req.student_full_name in listing
    detail = reviewer.get(reverse("appeals:appeal-detail", args=[appeal.public_id]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "Почему эта категория" in body and 'data-testid="appeal-decision-form"' in body
    assert AuditEvent.objects.filter(action="appeal.view", object_id=str(appeal.public_id)).exists()
    att = appeal.attachments.get()
    download = reviewer.get(reverse("appeals:appeal-attachment", args=[att.public_id]))
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="appeal.attachment_download").count() == 1
    # the request's own pages and API stay closed to the role
    assert (
        reviewer.get(reverse("requests:aid-request-detail", args=[req.public_id])).status_code
        == 403
    )
    assert reviewer.get(reverse("requests:aid-request-list")).status_code == 403
    # another district's reviewer: as if it did not exist
    other = client_for("district_reviewer_tem")
    assert other.get(reverse("appeals:appeal-detail", args=[appeal.public_id])).status_code == 404
    assert other.get(reverse("appeals:appeal-attachment", args=[att.public_id])).status_code == 404
    assert req.student_full_name not in other.get(reverse("appeals:appeal-list")).content.decode()


def test_the_reviewer_records_the_outcome_in_the_browser(world, client_for, no_enqueue):
    req = decided(world)
    _file_in_browser(client_for, req)
    appeal = Appeal.objects.get()
    reviewer = client_for("district_reviewer")
    url = reverse("appeals:appeal-decide", args=[appeal.public_id])
    r = reviewer.post(
        url,
        {
            "outcome": "revised",
            "note": "Доход подтверждён",
            "new_outcome": "approve",
            "amount_kzt": "30000",
        },
        follow=True,
    )
    assert "Итог жалобы записан" in r.content.decode()
    appeal.refresh_from_db()
    assert appeal.outcome == "revised" and appeal.new_decision.amount_kzt == 30000
    assert Notice.objects.filter(request=req, event="appeal_decided").exists()
    # the request page shows the appeal and the superseded decision to the school
    page = (
        client_for("pedagogue_a")
        .get(reverse("requests:aid-request-detail", args=[req.public_id]))
        .content.decode()
    )
    assert 'data-testid="request-appeal"' in page and 'data-testid="superseded"' in page
    # the pedagogue cannot decide an appeal
    again = client_for("pedagogue_a").post(url, {"outcome": "upheld", "note": "x"})
    assert again.status_code == 403


def test_overdue_appeals_are_flagged_on_the_list_and_in_district_statistics(
    world, client_for, no_enqueue, settings
):
    settings.STATS_MIN_CELL = 1
    req = decided(world)
    _file_in_browser(client_for, req)
    Appeal.objects.update(answer_due=timezone.localdate() - dt.timedelta(days=1))
    reviewer = client_for("district_reviewer")
    listing = reviewer.get(reverse("appeals:appeal-list") + "?state=overdue").content.decode()
    assert 'data-testid="overdue"' in listing
    stats = client_for("district_analyst").get(reverse("stats:dashboard")).content.decode()
    assert 'data-testid="stats-appeals"' in stats
    assert 'data-testid="appeals-overdue">1<' in stats


def test_appeal_figures_hide_small_counts(world, client_for, no_enqueue):
    req = decided(world)
    _file_in_browser(client_for, req)
    stats = client_for("district_analyst").get(reverse("stats:dashboard")).content.decode()
    assert 'data-testid="appeals-filed"><span class="stat-hidden"' in stats


def test_the_api_files_lists_and_decides(world, api_for, no_enqueue):
    req = decided(world)
    path, salary = salary_path(req)
    school = api_for("pedagogue_a")
    url = reverse("api:aid-request-appeal", args=[req.public_id])
    bad = school.post(
        url, {"reason": "x", "disputed": [{"path": "nope", "claimed": 1}]}, format="json"
    )
    assert bad.status_code == 400 and "disputed[0].path" in bad.json()
    r = school.post(
        url,
        {"reason": "Доход ниже", "disputed": [{"path": path, "claimed": salary + 1}]},
        format="json",
    )
    assert r.status_code == 201, r.content
    appeal_id = r.json()["id"]
    assert school.post(url, {"reason": "ещё"}, format="json").status_code == 409
    detail = school.get(reverse("api:aid-request-detail", args=[req.public_id])).json()
    assert detail["appeals"][0]["id"] == appeal_id and "appeal" not in detail["actions"]

    reviewer = api_for("district_reviewer")
    listing = reviewer.get(reverse("api:appeal-list")).json()
    assert [a["id"] for a in listing["results"]] == [appeal_id]
    assert listing["results"][0]["overdue"] is False
    assert reviewer.get(reverse("api:appeal-list") + "?state=bogus").status_code == 400
    assert reviewer.get(reverse("api:aid-request-detail", args=[req.public_id])).status_code == 403
    assert (
        api_for("district_reviewer_tem")
        .get(reverse("api:appeal-detail", args=[appeal_id]))
        .status_code
        == 404
    )

    decision_url = reverse("api:appeal-decision", args=[appeal_id])
    assert (
        school.post(decision_url, {"outcome": "upheld", "note": "x"}, format="json").status_code
        == 403
    )
    bad = reviewer.post(decision_url, {"outcome": "revised", "note": "ok"}, format="json")
    assert bad.status_code == 400 and "new_outcome" in bad.json()
    ok = reviewer.post(
        decision_url, {"outcome": "rescored", "note": "Карта исправлена"}, format="json"
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["outcome"] == "rescored"
    assert (
        reviewer.post(decision_url, {"outcome": "upheld", "note": "x"}, format="json").status_code
        == 409
    )
    assert AuditEvent.objects.filter(action="appeal.view").count() == 0  # the list is not a view
    reviewer.get(reverse("api:appeal-detail", args=[appeal_id]))
    assert AuditEvent.objects.filter(action="appeal.view").count() == 1


def test_the_api_takes_attachments_as_multipart(world, api_for, no_enqueue):
    import json

    req = decided(world)
    r = api_for("pedagogue_a").post(
        reverse("api:aid-request-appeal", args=[req.public_id]),
        {"reason": "Справка приложена", "disputed": json.dumps([]), "attachments": [png_file()]},
        format="multipart",
    )
    assert r.status_code == 201, r.content
    assert r.json()["attachments"][0]["content_type"] == "image/png"
