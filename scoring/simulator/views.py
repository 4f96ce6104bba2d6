"""The simulator's HTTP API (a stand-in for the external family card service).

``GET v1/cards?iin=<ИИН>[&as_of=YYYY-MM-DD][&region=KAR|SHY]``:

1. injected faults first (latency; "timeout": sleep, then 504; error: 503);
2. 400 (JSON) when ``iin`` is not a valid ИИН, or ``as_of``/``region`` are malformed;
3. 404 when the ИИН was marked unknown (``familycard_load --unknown``);
4. the loaded card in which the ИИН is a member, when there is one (served as loaded);
5. 404 for the share ``FAMILY_CARD_SIM_UNKNOWN_PERMILLE`` of ИИНs (by SHA-256), and for a holder
   born after ``as_of``;
6. else the deterministic synthetic card (``generator.generate_card``).

A "malformed" fault turns a 200 answer into a card that fails validation; a "trickle" fault sends
a 200 answer in 64-byte pieces with ``trickle_ms`` between them (a body that never quite stalls).

``POST v1/cards/batch``: the cards of up to 100 ИИНs in one call (see :func:`cards_batch`).

``GET v1/health``: liveness, the faults in force and the counts of loaded data. No faults apply.

Never anonymous: every call presents the shared secret ``FAMILY_CARD_SIM_SECRET`` as
``Authorization: Bearer …`` (the portal's card client sends ``FAMILY_CARD_API_KEY``, which
defaults to it); otherwise 401. No CSRF (a bearer secret, never a cookie), no sessions: the views touch nothing of
the portal. The simulator is installed and mounted only when ``FAMILY_CARD_SIM_ENABLED``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hmac
import json
import random
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from schools.identifiers import is_valid_iin
from scoring.jsondoc import canonical_json
from scoring.simulator import faults as faults_mod
from scoring.simulator import selectors
from scoring.simulator.generator import REGIONS, PersonNotFound, generate_card, is_hash_unknown

_MIN_AS_OF = dt.date(1950, 1, 1)
_MAX_AS_OF = dt.date(2099, 12, 31)


def _json(status: int, payload: dict[str, Any]) -> HttpResponse:
    # Cards hold exact numbers (Decimal): written exactly, never as strings or floats.
    response = HttpResponse(canonical_json(payload), status=status, content_type=_JSON)
    response["Cache-Control"] = "no-store"
    return response


_JSON = "application/json"


def _error(status: int, code: str, detail: str) -> HttpResponse:
    return _json(status, {"error": code, "detail": detail})


def _authorised(request: HttpRequest) -> bool:
    secret = str(getattr(settings, "FAMILY_CARD_SIM_SECRET", "") or "")
    scheme, _sep, presented = request.headers.get("Authorization", "").partition(" ")
    return bool(
        secret
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), secret.encode())
    )


def _unauthorised() -> HttpResponse:
    response = _error(401, "unauthorized", _("Нужен ключ доступа к симулятору"))
    response["WWW-Authenticate"] = 'Bearer realm="familycard-sim"'
    return response


def _not_found() -> HttpResponse:
    return _error(404, "not_found", _("Карта семьи для этого человека не найдена"))


def _roll(rate: float) -> bool:
    return rate > 0 and random.random() < rate  # noqa: S311 - fault injection, not security


def _inject_faults(faults: faults_mod.Faults) -> HttpResponse | None:
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    if _roll(faults.timeout_rate):
        time.sleep(float(settings.FAMILY_CARD_SIM_TIMEOUT_SLEEP))
        return _error(504, "timeout", _("Сервис карт семьи не ответил вовремя"))
    if _roll(faults.error_rate):
        return _error(503, "unavailable", _("Сервис карт семьи временно недоступен"))
    return None


def _malformed(doc: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(doc)
    broken["schema"] = "family-card/0"
    broken.pop("credit", None)
    if broken.get("members"):
        broken["members"][0]["incomes"]["salary"] = -1
    return broken


def _parse_as_of(raw: str | None) -> dt.date | None:
    value = raw or settings.FAMILY_CARD_SIM_AS_OF
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if _MIN_AS_OF <= day <= _MAX_AS_OF and len(value) == 10 else None


@csrf_exempt
@require_GET
def cards(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return _unauthorised()
    faults, _source = faults_mod.current_faults()
    faults_mod.request_counted()
    failure = _inject_faults(faults)
    if failure is not None:
        return failure

    iin = request.GET.get("iin", "")
    if not is_valid_iin(iin):
        return _error(400, "invalid_iin", _("Параметр iin должен быть корректным ИИН"))
    as_of = _parse_as_of(request.GET.get("as_of"))
    if as_of is None:
        return _error(400, "invalid_as_of", _("Параметр as_of должен быть датой ГГГГ-ММ-ДД"))
    region = request.GET.get("region") or None
    if region is not None and region not in REGIONS:
        return _error(400, "invalid_region", _("Параметр region должен быть KAR или SHY"))

    doc = _card_for(iin, as_of, region)
    if doc is None:
        return _not_found()
    if _roll(faults.malformed_rate):
        doc = _malformed(doc)
    if faults.trickle_ms:
        return _trickle(canonical_json(doc), faults.trickle_ms / 1000)
    return _json(200, doc)


def _card_for(
    iin: str,
    as_of: dt.date,
    region: str | None,
    known: tuple[set[str], dict[str, dict[str, Any]]] | None = None,
) -> dict[str, Any] | None:
    """The card in which ``iin`` is a member (steps 3–6 of the module docstring), or None.
    ``known``: the unknown ИИНs and the loaded cards, read for a whole batch at once."""
    if known is None:
        if selectors.simulated_person_is_unknown(iin):
            return None
        doc = selectors.simulated_card_for_iin(iin)
    else:
        if iin in known[0]:
            return None
        doc = known[1].get(iin)
    if doc is None:
        if is_hash_unknown(iin, int(settings.FAMILY_CARD_SIM_UNKNOWN_PERMILLE)):
            return None
        try:
            doc = generate_card(iin, as_of=as_of, region=region)
        except PersonNotFound:
            return None
    return doc


#: At most this many ИИНs in one ``POST v1/cards/batch``.
BATCH_MAX = 100
_BATCH_BODY_MAX = 64 * 1024


@csrf_exempt
@require_POST
def cards_batch(request: HttpRequest) -> HttpResponse:
    """``POST v1/cards/batch`` with ``{"iins": [...], "as_of"?: "YYYY-MM-DD", "region"?: …}``:
    the cards of up to :data:`BATCH_MAX` people in one answer, in the order asked,
    ``{"cards": [{"iin": …, "status": 200, "card": {…}} | {"iin": …, "status": 404|400,
    "error": …}]}``. Faults apply to the call as to one GET (latency, timeout, error, trickle);
    a "malformed" fault breaks single cards."""
    if not _authorised(request):
        return _unauthorised()
    faults, _source = faults_mod.current_faults()
    faults_mod.request_counted()
    failure = _inject_faults(faults)
    if failure is not None:
        return failure
    if len(request.body) > _BATCH_BODY_MAX:
        return _error(413, "too_large", _("Слишком большой запрос"))
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_json", _("Тело запроса должно быть JSON-объектом"))
    iins = body.get("iins") if isinstance(body, dict) else None
    if (
        not isinstance(iins, list)
        or not 1 <= len(iins) <= BATCH_MAX
        or not all(isinstance(i, str) for i in iins)
    ):
        return _error(
            400,
            "invalid_iins",
            _("Поле iins должно быть списком от 1 до %(max)d ИИН") % {"max": BATCH_MAX},
        )
    raw_as_of = body.get("as_of")
    as_of = _parse_as_of(raw_as_of if isinstance(raw_as_of, str) else None)
    if as_of is None or (raw_as_of is not None and not isinstance(raw_as_of, str)):
        return _error(400, "invalid_as_of", _("Параметр as_of должен быть датой ГГГГ-ММ-ДД"))
    region = body.get("region") or None
    if region is not None and (not isinstance(region, str) or region not in REGIONS):
        return _error(400, "invalid_region", _("Параметр region должен быть KAR или SHY"))
    valid = [iin for iin in iins if is_valid_iin(iin)]
    known = (selectors.simulated_unknown_among(valid), selectors.simulated_cards_for_iins(valid))
    items: list[dict[str, Any]] = []
    for iin in iins:
        if not is_valid_iin(iin):
            items.append({"iin": iin, "status": 400, "error": "invalid_iin"})
            continue
        doc = _card_for(iin, as_of, region, known)
        if doc is None:
            items.append({"iin": iin, "status": 404, "error": "not_found"})
            continue
        if _roll(faults.malformed_rate):
            doc = _malformed(doc)
        items.append({"iin": iin, "status": 200, "card": doc})
    if faults.trickle_ms:
        return _trickle(canonical_json({"cards": items}), faults.trickle_ms / 1000)
    return _json(200, {"cards": items})


def _trickle(body: bytes, pause: float) -> StreamingHttpResponse:
    def pieces() -> Any:
        for start in range(0, len(body), 64):
            time.sleep(pause)
            yield body[start : start + 64]

    response = StreamingHttpResponse(pieces(), status=200, content_type=_JSON)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return _unauthorised()
    faults, source = faults_mod.current_faults()
    return _json(
        200,
        {
            "status": "ok",
            "service": "familycard-sim",
            "schema": "family-card/1",
            "as_of": settings.FAMILY_CARD_SIM_AS_OF,
            "faults": {**faults.as_dict(), "source": source},
            "loaded": selectors.simulated_counts(),
        },
    )


def route_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 of the simulator served alone: JSON like every other answer (the portal's HTML
    error pages need the portal's URLconf)."""
    return _error(404, "not_found", "no such route")
