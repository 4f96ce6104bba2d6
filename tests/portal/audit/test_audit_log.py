"""The audit log page: auditors only, filters, pagination, CSV export; no family data."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.audit.services import audit_record
from tests.portal.factories import submit

pytestmark = pytest.mark.django_db


def test_it_filters_paginates_and_exports(world, client_for, no_enqueue):
    req = submit(world)
    for i in range(60):
        audit_record(action="api_token.show", object_type="x", object_id=str(i))
    c = client_for("auditor")
    url = reverse("audit:audit-event-list")
    page = c.get(url, {"action": "aid_request.submit"}).content.decode()
    assert str(req.public_id) in page and "api_token.show" not in page.split("<tbody>")[1]
    assert "1 / 2" in c.get(url, {"action": "api_token.show"}).content.decode()
    assert "pedagogue_a" in c.get(url, {"user": "pedagogue_a"}).content.decode()
    today = timezone.localdate().isoformat()
    assert c.get(url, {"date_from": today, "date_to": today}).status_code == 200
    r = c.get(reverse("audit:audit-event-export"), {"action": "aid_request.submit"})
    body = b"".join(r.streaming_content).decode()
    assert r["Content-Type"].startswith("text/csv")
    assert body.count("aid_request.submit") == 1
    assert req.student_iin not in body and req.student_full_name not in body
    assert AuditEvent.objects.filter(action="audit_log.export", actor_username="auditor").exists()


@pytest.mark.parametrize("persona", ["pedagogue_a", "region_analyst", "rules_admin", "norole"])
def test_it_is_for_auditors_only(client_for, persona):
    assert client_for(persona).get(reverse("audit:audit-event-list")).status_code == 403
    assert client_for(persona).get(reverse("audit:audit-event-export")).status_code == 403
