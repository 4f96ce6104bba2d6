"""A person's own record: everything held about one ИИН, and every view of their data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from portal.audit.models import AuditEvent
from portal.audit.selectors import REQUEST_VIEW_ACTIONS
from portal.privacy.record import person_record_collect
from schools.scope import scope_for
from tests.portal.factories import GUARDIAN_IIN, make_iin, score, student_iin, submit
from tests.portal.letters.helpers import flat, pdf_text

pytestmark = pytest.mark.django_db


def _seed(world, client_for):
    mine = submit(world, student_iin=student_iin(1))
    other = submit(
        world, student_iin=student_iin(2), guardian_iin=make_iin(dt.date(1980, 1, 1), "M", 9)
    )
    score(mine)
    for persona in ("pedagogue_a", "principal_a", "auditor", "pedagogue_a"):
        c = client_for(persona)
        assert c.get(f"/requests/{mine.public_id}/").status_code == 200
    client_for("pedagogue_a").get(f"/requests/{other.public_id}/")
    return mine, other


def test_the_record_contains_every_view_of_the_persons_data(world, client_for, no_enqueue):
    mine, other = _seed(world, client_for)
    views = AuditEvent.objects.filter(
        object_type="aid_request", object_id=str(mine.public_id), action__in=REQUEST_VIEW_ACTIONS
    )
    assert views.count() >= 4
    record = person_record_collect(scope=scope_for(world.user("auditor")), iin=student_iin(1))
    assert set(record.view_event_ids) == set(views.values_list("pk", flat=True))
    assert [r.pk for r in record.requests] == [mine.pk]

    c = client_for("auditor")
    response = c.post("/privacy/person-record/", {"iin": student_iin(1)})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = flat(pdf_text(response.content))
    assert str(mine.public_id)[:8] in text.replace(" ", "") or mine.student_full_name in text
    for login in set(views.values_list("actor_username", flat=True)):
        assert login in text, login
    assert str(other.public_id) not in text
    produced = AuditEvent.objects.filter(action="privacy.person_record").latest("pk")
    assert student_iin(1) not in json.dumps(produced.detail)
    assert produced.detail["requests"] == 1 and produced.detail["views"] == views.count()


def test_the_guardian_gets_both_requests_and_a_bad_iin_is_refused(world, client_for, no_enqueue):
    _seed(world, client_for)
    record = person_record_collect(scope=scope_for(world.user("auditor")), iin=GUARDIAN_IIN)
    assert len(record.requests) == 1  # the other request has another guardian
    c = client_for("auditor")
    bad = c.post("/privacy/person-record/", {"iin": "123"})
    assert bad.status_code == 400 and "iin" in bad.context["form"].errors
    assert (
        client_for("pedagogue_a").post("/privacy/person-record/", {"iin": GUARDIAN_IIN}).status_code
        == 403
    )


def test_the_command_writes_the_record_and_prints_its_path(
    world, client_for, no_enqueue, capsys, settings, tmp_path
):
    settings.PERSON_RECORD_DIR = tmp_path
    mine, _other = _seed(world, client_for)
    call_command("person_record", student_iin(1))
    out = capsys.readouterr().out.strip()
    path = Path(out)
    assert path.exists() and path.read_bytes().startswith(b"%PDF-")
    assert student_iin(1) not in out
    assert mine.student_full_name in flat(pdf_text(path.read_bytes()))
