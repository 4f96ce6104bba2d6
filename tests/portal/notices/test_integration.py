"""Submit → decide with a REAL Celery worker: the guardian's simulated phone receives the
"received" notice (after one injected gateway failure, retried) and the "decided" notice; the
request page shows them sent; the decision letter verifies."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.notices.models import Notice
from portal.notices.simulator import faults
from portal.notices.simulator.models import SimulatedSms
from portal.requests import services
from portal.requests.models import Status
from schools.scope import scope_for
from tests.portal.factories import iin_with_category, submit
from tests.portal.pipeline import status_of, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _phone(number: str) -> list[str]:
    return list(SimulatedSms.objects.filter(to=number).values_list("text", flat=True))


def test_it_delivers_the_guardians_notices_through_a_real_worker(sms_worker, world, client_for):
    faults.fail_next_set(1)
    req = submit(world, student_iin=iin_with_category(1, 2), family_language="kk")
    wait_for(lambda: len(_phone(req.guardian_phone)) == 1, 40, "the received SMS")
    # The outbox row is marked sent just after the gateway answered.
    wait_for(
        lambda: Notice.objects.get(request=req, event="received").status == Notice.Status.SENT,
        10,
        "the notice recorded as sent",
    )
    received = Notice.objects.get(request=req, event="received")
    assert received.status == Notice.Status.SENT and received.attempts == 2
    assert "өтінім берді" in _phone(req.guardian_phone)[0]

    wait_for(lambda: status_of(req) == Status.SCORED, 40, "scored")
    user = world.user("pedagogue_a")
    services.aid_request_decide(
        scope=scope_for(user), actor=user, aid_request=req, outcome="approve", amount_kzt=500
    )
    wait_for(lambda: len(_phone(req.guardian_phone)) == 2, 40, "the decided SMS")
    assert "шешім қабылданды" in _phone(req.guardian_phone)[1]
    assert "500" not in _phone(req.guardian_phone)[1]

    page = client_for("pedagogue_a").get(
        reverse("requests:aid-request-detail", args=[req.public_id])
    )
    html = page.content.decode()
    assert html.count("отправлено") >= 2
    letter = req.letters.get()
    verify = client_for("anon").get(reverse("letters:verify", args=[letter.code_grouped]))
    assert "Письмо с этим кодом выдано" in verify.content.decode()
