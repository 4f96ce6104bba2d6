"""The simulated SMS gateway's HTTP API (the contract of ``portal.notices.gateway``).

``POST v1/messages`` ``{"to", "text", "sender"}`` with ``Idempotency-Key``: 201 with the new
message's id, 200 with the same id for a key seen before (one message per key); 400 for a bad
body; 503 while an injected fault lasts (``manage.py sms_sim faults --fail-next N``).
``GET v1/messages?to=+7…``: the messages received for a phone, oldest first ("the guardian's
phone"). ``GET v1/health``. Never anonymous: ``Authorization: Bearer SMS_SIM_SECRET``.
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from portal.notices.simulator import faults
from portal.notices.simulator.models import SimulatedSms

_PHONE = re.compile(r"^\+?7\d{10}$")
MAX_TEXT = 1000


def _authorised(request: HttpRequest) -> bool:
    secret = str(getattr(settings, "SMS_SIM_SECRET", "") or "")
    scheme, _sep, presented = request.headers.get("Authorization", "").partition(" ")
    return bool(
        secret
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), secret.encode())
    )


def _error(status: int, code: str) -> JsonResponse:
    return JsonResponse({"error": code}, status=status)


def _message(m: SimulatedSms) -> dict[str, Any]:
    return {
        "id": m.message_id,
        "to": m.to,
        "sender": m.sender,
        "text": m.text,
        "idempotency_key": m.idempotency_key,
        "received_at": m.received_at.isoformat(),
    }


@csrf_exempt
@require_http_methods(["GET", "POST"])
def messages(request: HttpRequest) -> JsonResponse:
    if not _authorised(request):
        return _error(401, "unauthorized")
    if request.method == "GET":
        to = request.GET.get("to", "")
        qs = SimulatedSms.objects.filter(to=to) if to else SimulatedSms.objects.all()
        return JsonResponse({"messages": [_message(m) for m in qs[:1000]]})
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _error(400, "bad_json")
    key = request.headers.get("Idempotency-Key", "").strip()
    to, text = body.get("to"), body.get("text")
    if not key or len(key) > 100:
        return _error(400, "idempotency_key")
    if not isinstance(to, str) or not _PHONE.match(to):
        return _error(400, "to")
    if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
        return _error(400, "text")
    existing = SimulatedSms.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return JsonResponse({"id": existing.message_id, "status": "accepted"}, status=200)
    if faults.fail_next_take():
        return _error(503, "unavailable")
    try:
        with transaction.atomic():
            m = SimulatedSms.objects.create(
                message_id=uuid.uuid4().hex,
                idempotency_key=key,
                to=to,
                sender=str(body.get("sender") or "")[:20],
                text=text,
            )
    except IntegrityError:
        m = SimulatedSms.objects.get(idempotency_key=key)
        return JsonResponse({"id": m.message_id, "status": "accepted"}, status=200)
    return JsonResponse({"id": m.message_id, "status": "accepted"}, status=201)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    if not _authorised(request):
        return _error(401, "unauthorized")
    return JsonResponse({"status": "ok", "messages": SimulatedSms.objects.count()})
