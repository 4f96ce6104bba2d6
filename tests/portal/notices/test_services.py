"""The notice outbox: rows in the event's transaction, words without family data, opt-out,
delivery through the gateway client to our simulator (over HTTP), retries and failures."""

from __future__ import annotations

import re

import httpx
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from portal.audit.models import AuditEvent
from portal.notices import services
from portal.notices.gateway import GatewayRejected, GatewayUnavailable, SmsGateway
from portal.notices.models import Notice
from portal.notices.simulator import faults
from portal.notices.simulator.models import SimulatedSms
from portal.requests import services as request_services
from portal.requests.models import AidRequest
from schools.scope import scope_for
from tests.portal.factories import iin_with_category, score, student_iin, submit


def _decide(world, req, capture):
    user = world.user("pedagogue_a")
    with capture(execute=True):
        return request_services.aid_request_decide(
            scope=scope_for(user), actor=user, aid_request=req, outcome="approve", amount_kzt=777
        )


def test_it_writes_the_received_notice_in_the_submit_transaction(
    world, no_enqueue, notices_sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        req = submit(world)
        notice = Notice.objects.get(request=req)
        assert notices_sent == []  # delivery only after the commit
    for cb in callbacks:
        cb()
    assert notices_sent == [notice.pk]
    assert (notice.event, notice.channel, notice.status) == ("received", "sms", "pending")
    assert notice.recipient == req.guardian_phone
    assert notice.idempotency_key == f"received:{req.public_id}:sms"


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_it_writes_sms_in_the_family_language_without_family_data(
    language, world, no_enqueue, django_capture_on_commit_callbacks
):
    req = submit(world, student_iin=iin_with_category(1, 2), family_language=language)
    score(req)
    _decide(world, req, django_capture_on_commit_callbacks)
    texts = list(Notice.objects.filter(request=req).values_list("body", flat=True))
    assert len(texts) == 2
    category = req.scorings.get().assessment.category
    for text in texts:
        assert text.startswith("Көмек:")
        for secret in (
            req.student_iin,
            req.guardian_iin,
            req.student_full_name,
            req.guardian_full_name,
            "777",
            str(req.amount_kzt),
        ):
            assert secret not in text, secret
        assert not re.search(r"категор|санат|category", text, re.IGNORECASE)
        assert f"{category}" not in text.replace("№1", "")
    if language == "kk":
        assert any("шешім қабылданды" in t for t in texts)
    else:
        assert any("принято решение" in t for t in texts)


def test_it_adds_an_email_where_one_is_given(world, no_enqueue):
    req = submit(world, guardian_email="parent@example.kz")
    channels = sorted(Notice.objects.filter(request=req).values_list("channel", flat=True))
    assert channels == ["email", "sms"]
    email = Notice.objects.get(request=req, channel="email")
    assert email.recipient == "parent@example.kz" and email.subject


def test_it_writes_one_row_per_event_and_channel(world, no_enqueue):
    req = submit(world)
    services.notices_for_event(aid_request=req, event="received", ref=str(req.public_id))
    assert Notice.objects.filter(request=req).count() == 1


def test_it_respects_an_opt_out_given_at_submission_and_audits_it(
    world, no_enqueue, notices_sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        req = submit(world, notices_opt_out=True)
    notice = Notice.objects.get(request=req)
    assert notice.status == Notice.Status.SKIPPED and notices_sent == []
    event = AuditEvent.objects.get(action="notices.opt_out", object_id=str(req.public_id))
    assert event.actor_username == "pedagogue_a"
    req.refresh_from_db()
    assert req.notices_opt_out_at is not None


def test_it_records_an_opt_out_later_and_never_sends_what_was_pending(world, no_enqueue):
    req = submit(world)
    pending = Notice.objects.get(request=req)
    user = world.user("pedagogue_a")
    services.notices_opt_out_set(scope=scope_for(user), actor=user, aid_request=req, opted_out=True)
    pending.refresh_from_db()
    req.refresh_from_db()
    assert req.notices_opt_out and req.notices_opt_out_at
    assert pending.status == Notice.Status.SKIPPED
    assert services.notice_deliver(notice_id=pending.pk) == "done"
    services.notices_opt_out_set(
        scope=scope_for(user), actor=user, aid_request=req, opted_out=False
    )
    actions = list(
        AuditEvent.objects.filter(object_id=str(req.public_id), action__startswith="notices.")
        .order_by("id")
        .values_list("action", "actor_username")
    )
    assert actions == [("notices.opt_out", "pedagogue_a"), ("notices.opt_in", "pedagogue_a")]
    auditor = world.user("auditor")
    with pytest.raises(PermissionDenied):
        services.notices_opt_out_set(
            scope=scope_for(auditor), actor=auditor, aid_request=req, opted_out=True
        )


def test_it_skips_a_pending_notice_whose_family_opted_out_meanwhile(world, no_enqueue):
    req = submit(world)
    notice = Notice.objects.get(request=req)
    type(req).objects.filter(pk=req.pk).update(notices_opt_out=True)
    assert services.notice_deliver(notice_id=notice.pk) == "skipped"
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SKIPPED and notice.attempts == 0


# --------------------------------------------------------------------------- delivery


@pytest.fixture
def gateway(live_server, settings):
    settings.SMS_GATEWAY_URL = live_server.url + "/sms-sim"
    settings.SMS_SIM_FAULT_KEY = f"komek:test-sms-faults:{id(settings)}"
    return settings.SMS_GATEWAY_URL


def test_it_delivers_an_sms_to_the_simulator_once(world, no_enqueue, gateway):
    req = submit(world)
    notice = Notice.objects.get(request=req)
    assert services.notice_deliver(notice_id=notice.pk) == "sent"
    assert services.notice_deliver(notice_id=notice.pk) == "done"
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT and notice.sent_at and notice.attempts == 1
    phone = list(SimulatedSms.objects.filter(to=req.guardian_phone))
    assert [m.text for m in phone] == [notice.body]
    assert phone[0].message_id == notice.provider_id
    sent = AuditEvent.objects.get(action="notice.sent", object_id=str(notice.public_id))
    assert req.guardian_phone not in str(sent.detail)


def test_it_is_one_message_however_often_it_is_sent(world, no_enqueue, gateway):
    req = submit(world)
    notice = Notice.objects.get(request=req)
    with SmsGateway() as client:
        ids = {
            client.send(to=notice.recipient, text=notice.body, idempotency_key="k-1")
            for _ in range(3)
        }
    assert len(ids) == 1
    assert SimulatedSms.objects.filter(idempotency_key="k-1").count() == 1


def test_it_retries_transient_failures_then_gives_up(world, no_enqueue, gateway):
    req = submit(world)
    notice = Notice.objects.get(request=req)
    faults.fail_next_set(2)
    with pytest.raises(GatewayUnavailable):
        services.notice_deliver(notice_id=notice.pk, final_try=False)
    notice.refresh_from_db()
    assert notice.status == "pending" and notice.last_error == "http_503"
    assert services.notice_deliver(notice_id=notice.pk, final_try=True) == "failed"
    notice.refresh_from_db()
    assert notice.status == Notice.Status.FAILED and notice.attempts == 2
    assert AuditEvent.objects.filter(action="notice.failed", outcome="error").exists()
    assert not SimulatedSms.objects.exists()


def test_it_fails_at_once_when_the_gateway_refuses(world, no_enqueue, gateway, settings):
    settings.SMS_GATEWAY_KEY = "wrong-key"
    req = submit(world)
    notice = Notice.objects.get(request=req)
    assert services.notice_deliver(notice_id=notice.pk, final_try=False) == "failed"
    notice.refresh_from_db()
    assert notice.last_error == "http_401"


def test_it_sends_the_email_notice(world, no_enqueue, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    req = submit(world, guardian_email="parent@example.kz", family_language="kk")
    notice = Notice.objects.get(request=req, channel="email")
    assert services.notice_deliver(notice_id=notice.pk) == "sent"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["parent@example.kz"]
    assert "Сәлеметсіз бе" in mail.outbox[0].body


def test_it_requeues_pending_notices_nobody_delivered(
    world, no_enqueue, notices_sent, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    req = submit(world)
    notice = Notice.objects.get(request=req)
    later = timezone.now() + dt.timedelta(minutes=10)
    assert services.notices_requeue_pending(older_than=dt.timedelta(minutes=5)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notices_requeue_pending(older_than=dt.timedelta(minutes=5), now=later) == 1
    assert notice.pk in notices_sent


# --------------------------------------------------------------------------- the client


def _client(handler) -> SmsGateway:
    return SmsGateway(base_url="http://gw.test", key="k", transport=httpx.MockTransport(handler))


def test_it_sends_the_key_and_idempotency_key_and_reads_the_id():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        seen["url"] = str(request.url)
        return httpx.Response(201, json={"id": "m-1"})

    assert _client(handler).send(to="+77011234567", text="t", idempotency_key="x") == "m-1"
    assert seen["authorization"] == "Bearer k" and seen["idempotency-key"] == "x"
    assert seen["url"] == "http://gw.test/v1/messages"


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        (httpx.Response(503), GatewayUnavailable, "http_503"),
        (httpx.Response(429), GatewayUnavailable, "http_429"),
        (httpx.Response(200, text="not json"), GatewayUnavailable, "bad_response"),
        (httpx.Response(400, json={"error": "to"}), GatewayRejected, "http_400"),
        (httpx.ConnectTimeout("slow"), GatewayUnavailable, "timeout"),
        (httpx.ConnectError("refused"), GatewayUnavailable, "connection"),
    ],
)
def test_it_tells_transient_from_permanent_failures(answer, error, code):
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    with pytest.raises(error) as exc:
        _client(handler).send(to="+77011234567", text="t", idempotency_key="x")
    assert exc.value.code == code


def test_it_sends_nothing_for_the_synthetic_families_of_the_demo(world, no_enqueue):
    with services.notices_suppressed():
        req = submit(world)
    assert not Notice.objects.filter(request=req).exists()
    assert services.notices_for_event(aid_request=req, event="received", ref="x")


def test_a_class_list_tells_every_guardian_as_one_submission_does(
    world, notices_sent, monkeypatch, django_capture_on_commit_callbacks
):
    """A class list saved its requests without the guardians' "request received"."""
    from portal.requests import batch
    from tests.portal.factories import request_data, student_iin

    monkeypatch.setattr(batch, "_enqueue_all", lambda ids: None)
    user = world.user("pedagogue_a")
    rows = [
        (2, request_data(student_iin=student_iin(70))),
        (3, request_data(student_iin=student_iin(90), guardian_email="parent@example.kz")),
        (4, request_data(student_iin=student_iin(110), notices_opt_out=True)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        result = batch.aid_requests_submit_batch(scope=scope_for(user), actor=user, rows=rows)
    assert result.saved and not result.errors
    first, second, opted_out = result.created
    got = {
        (n.request_id, n.channel, n.status, n.idempotency_key)
        for n in Notice.objects.filter(request__in=result.created)
    }
    assert got == {
        (first.pk, "sms", "pending", f"received:{first.public_id}:sms"),
        (second.pk, "sms", "pending", f"received:{second.public_id}:sms"),
        (second.pk, "email", "pending", f"received:{second.public_id}:email"),
        (opted_out.pk, "sms", "skipped", f"received:{opted_out.public_id}:sms"),
    }
    pending = Notice.objects.filter(request__in=result.created, status="pending")
    assert sorted(notices_sent) == sorted(pending.values_list("pk", flat=True))


def test_a_chunk_of_notices_is_delivered_in_one_task_and_a_failure_retries_alone(
    world, no_enqueue, gateway
):
    from unittest import mock

    from portal.notices import tasks

    reqs = [submit(world, student_iin=student_iin(130 + 20 * k)) for k in range(3)]
    ids = [Notice.objects.get(request=r).pk for r in reqs]
    faults.fail_next_set(1)  # the first message meets a gateway error
    with mock.patch.object(tasks.notice_deliver, "apply_async") as single:
        counts = tasks.notices_deliver_batch.apply(args=[ids]).get()
    assert counts == {"retry": 1, "sent": 2}
    (call,) = single.call_args_list
    assert call.args[0] == (ids[0],)
    assert SimulatedSms.objects.count() == 2
    again = tasks.notices_deliver_batch.apply(args=[ids]).get()  # redelivered chunk
    assert again == {"sent": 1, "done": 2}
    assert SimulatedSms.objects.count() == 3


def _rls_settings(sql: str) -> bool:
    return "set_config(" in sql or "current_setting(" in sql


def test_a_chunk_of_notices_costs_the_same_queries_for_two_or_six(world, no_enqueue, gateway):
    """Issue 12: the chunk is claimed, recorded and audited set-based around the sends."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal.notices import tasks

    reqs = [submit(world, student_iin=student_iin(150 + 10 * k)) for k in range(8)]
    ids = [Notice.objects.get(request=r).pk for r in reqs]
    AidRequest.objects.filter(pk__in=[reqs[0].pk, reqs[-1].pk]).update(notices_opt_out=True)
    counts = []
    for chunk in (ids[:2], ids[2:]):
        with CaptureQueriesContext(connection) as queries:
            tasks.notices_deliver_batch.apply(args=[chunk]).get()
        counts.append(
            len([q for q in queries.captured_queries if not _rls_settings(q["sql"])])
        )  # (the row-level security settings are read only when the connection's are unknown)
    assert counts[0] == counts[1], counts
    assert {Notice.objects.get(pk=pk).status for pk in (ids[0], ids[-1])} == {"skipped"}
    assert Notice.objects.filter(pk__in=ids, status=Notice.Status.SENT).count() == 6
    assert AuditEvent.objects.filter(action="notice.sent").count() == 6
    assert SimulatedSms.objects.count() == 6
