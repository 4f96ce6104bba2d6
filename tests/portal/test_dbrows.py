"""Issue 12: rows read and written by fixed statements (``portal.dbrows``) are the ORM's rows.

The submission path loads its school and inserts its request and audit row without the ORM's
compiler; the rows must be exactly what ``.get()`` and ``.save()`` give.
"""

from __future__ import annotations

import pytest
from django.db.models.signals import post_save

from portal.audit.models import AuditEvent
from portal.audit.services import audit_build
from portal.dbrows import insert, load_by_pk
from portal.requests.models import AidRequest
from schools.models import School
from tests.portal.factories import submit

pytestmark = pytest.mark.django_db


def _columns(obj) -> dict:  # noqa: ANN001
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_row_loaded_by_key_is_the_orms(world):
    school = world.school_a
    loaded = load_by_pk(School, school.pk)
    assert _columns(loaded) == _columns(School.objects.get(pk=school.pk))
    assert loaded._state.adding is False and loaded._state.db == "default"
    assert load_by_pk(School, 10**9) is None


def test_an_inserted_row_is_what_save_writes(world):
    def event(n: int) -> AuditEvent:
        return audit_build(
            action="aid_request.submit",
            actor=world.user("pedagogue_a"),
            object_type="aid_request",
            object_id=str(n),
            school_id=world.school_a.pk,
            ip="127.0.0.1",
            detail={"ground": "asp", "text": 'кавычки " и \\ слэш'},
        )

    fast, orm = event(1), event(1)
    insert(fast)
    orm.save()
    assert fast.pk and fast.pk != orm.pk and fast._state.adding is False
    a, b = AuditEvent.objects.get(pk=fast.pk), AuditEvent.objects.get(pk=orm.pk)
    skip = {"id", "created_at"}
    assert {k: v for k, v in _columns(a).items() if k not in skip} == {
        k: v for k, v in _columns(b).items() if k not in skip
    }
    assert a.detail["text"] == 'кавычки " и \\ слэш'


def test_a_submitted_request_reads_back_as_written(world, no_enqueue):
    req = submit(world)
    stored = AidRequest.objects.get(pk=req.pk)
    assert _columns(stored) == _columns(req)
    assert stored.student_iin_hmac and stored.created_at is not None


def test_a_model_someone_listens_to_is_saved_by_the_orm(world):
    heard = []

    def receiver(sender, instance, created, **kwargs):  # noqa: ANN001, ANN003, ANN202
        heard.append((instance.object_id, created))

    post_save.connect(receiver, sender=AuditEvent, dispatch_uid="test_dbrows")
    try:
        e = audit_build(action="aid_request.submit", object_type="t", object_id="42")
        insert(e)
    finally:
        post_save.disconnect(dispatch_uid="test_dbrows", sender=AuditEvent)
    assert heard == [("42", True)] and AuditEvent.objects.filter(object_id="42").exists()
