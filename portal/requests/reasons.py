"""Why a request is where it is: a stable **code** with **parameters**, rendered on demand.

A reason is stored as ``status_reason_code`` + ``status_reason_params`` (JSON) on the request,
never as a sentence: pages, the API and exports render it in the reader's language
(:func:`render`), and statistics group by the code. Parameters hold only codes and counts —
never an ИИН, a name, an income or a retry delay ("повторите через 37 с" is not a reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class ReasonCode(models.TextChoices):
    NO_CONSENT = "no_consent", gettext_lazy("нет согласия")
    CONSENT_NOT_YET_VALID = "consent_not_yet_valid", gettext_lazy("согласие ещё не действует")
    CONSENT_EXPIRED = "consent_expired", gettext_lazy("согласие истекло")
    CARD_UNAVAILABLE = "card_unavailable", gettext_lazy("сервис карт семьи недоступен")
    CARD_NOT_FOUND = "card_not_found", gettext_lazy("карта семьи не найдена")
    CARD_MALFORMED = "card_malformed", gettext_lazy("некорректная карта семьи")
    CARD_REJECTED = "card_rejected", gettext_lazy("запрос карты отклонён")
    CARD_INVALID = "card_invalid", gettext_lazy("карта семьи не прошла проверку")
    CARD_ERROR = "card_error", gettext_lazy("ошибка сервиса карт семьи")
    SCORING_FAILED = "scoring_failed", gettext_lazy("оценка не удалась")
    NO_RULESET = "no_ruleset", gettext_lazy("нет действующих правил")
    RULESET_PARAMETER = "ruleset_parameter", gettext_lazy("нет параметров правил для года")
    WITHDRAWN_BY_SCHOOL = "withdrawn_by_school", gettext_lazy("отозвано школой")
    SIGNATURE_REFUSED = "signature_refused", gettext_lazy("директор отказал в подписи решения")
    LEGACY = "legacy", gettext_lazy("прежняя запись")


CONSENT_CODES = frozenset(
    {ReasonCode.NO_CONSENT, ReasonCode.CONSENT_NOT_YET_VALID, ReasonCode.CONSENT_EXPIRED}
)


def _cause_label(cause: str) -> str:
    labels = {
        "timeout": _("нет ответа за отведённое время"),
        "connection": _("не удалось соединиться"),
        "http_5xx": _("внутренняя ошибка сервиса"),
        "http_429": _("слишком много запросов"),
        "circuit_open": _("обращения временно приостановлены после серии ошибок"),
    }
    return labels.get(cause, _("причина не указана"))


def _text(code: str, params: dict[str, Any]) -> str:
    if code == ReasonCode.NO_CONSENT:
        return _("Нет записанного согласия на обработку данных семьи.")
    if code == ReasonCode.CONSENT_NOT_YET_VALID:
        return _("Согласие ещё не вступило в силу.")
    if code == ReasonCode.CONSENT_EXPIRED:
        return _("Срок действия согласия истёк.")
    if code == ReasonCode.CARD_UNAVAILABLE:
        return _(
            "Сервис карт семьи недоступен после всех попыток (%(cause)s). "
            "Заявка вернётся в очередь, когда сервис заработает."
        ) % {"cause": _cause_label(str(params.get("cause", "")))}
    if code == ReasonCode.CARD_NOT_FOUND:
        return _("Карта семьи не найдена.")
    if code == ReasonCode.CARD_MALFORMED:
        return _("Сервис карт семьи вернул некорректную карту (ошибок: %(count)d).") % {
            "count": int(params.get("count") or 0)
        }
    if code == ReasonCode.CARD_REJECTED:
        if params.get("http_status"):
            return _("Сервис карт семьи отклонил запрос (HTTP %(status)d).") % {
                "status": int(params["http_status"])
            }
        return _("Некорректный ИИН: запрос карты семьи не отправлен.")
    if code == ReasonCode.CARD_INVALID:
        paths = ", ".join(str(p) for p in (params.get("paths") or [])[:5])
        return _("Карта семьи не прошла проверку (ошибок: %(count)d): %(paths)s.") % {
            "count": int(params.get("count") or 0),
            "paths": paths or "—",
        }
    if code == ReasonCode.CARD_ERROR:
        return _("Ошибка сервиса карт семьи.")
    if code == ReasonCode.SCORING_FAILED:
        cause = str(params.get("cause", ""))
        if cause == "database":
            return _("Оценка не удалась: база данных не отвечала. Оцените заявку снова.")
        if cause == "time_limit":
            return _("Оценка не уложилась в отведённое время. Оцените заявку снова.")
        return _("Оценка не удалась из-за внутренней ошибки (%(error)s).") % {
            "error": str(params.get("error", "")) or "—"
        }
    if code == ReasonCode.NO_RULESET:
        return _("Нет действующего набора правил оценки.")
    if code == ReasonCode.RULESET_PARAMETER:
        return _("В наборе правил нет параметров для года карты семьи.")
    if code == ReasonCode.WITHDRAWN_BY_SCHOOL:
        return _("Заявка отозвана школой.")
    if code == ReasonCode.SIGNATURE_REFUSED:
        return _("Директор отказал в подписи решения: нужно новое решение.")
    if code == ReasonCode.LEGACY:
        return str(params.get("text", ""))
    return ""


@dataclass(frozen=True)
class Reason:
    """A reason value: a code and its parameters (JSON-serialisable, no personal data)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ReasonCode(self.code)  # an unknown code is a programming error

    def render(self, lang: str | None = None) -> str:
        return render(self.code, self.params, lang)

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "text": self.render(lang)}


def render(code: str, params: dict[str, Any] | None = None, lang: str | None = None) -> str:
    """The reason in ``lang`` (default: the active language); "" for no reason."""
    if not code:
        return ""
    if lang:
        with translation.override(lang):
            return _text(code, params or {})
    return _text(code, params or {})


# ------------------------------------------------------------------ stored sentences → codes

_LEGACY_EXACT = {
    "Нет записанного согласия на обработку данных семьи.": ReasonCode.NO_CONSENT,
    "Согласие ещё не вступило в силу.": ReasonCode.CONSENT_NOT_YET_VALID,
    "Срок действия согласия истёк.": ReasonCode.CONSENT_EXPIRED,
    "Карта семьи не найдена.": ReasonCode.CARD_NOT_FOUND,
    "Карта семьи для этого человека не найдена": ReasonCode.CARD_NOT_FOUND,
    "Нет действующего набора правил оценки.": ReasonCode.NO_RULESET,
    "В наборе правил нет параметров для года карты семьи.": ReasonCode.RULESET_PARAMETER,
    "Заявка отозвана школой.": ReasonCode.WITHDRAWN_BY_SCHOOL,
}
_LEGACY_CAUSES = (
    ("приостановлены", "circuit_open"),
    ("нет ответа", "timeout"),
    ("не удалось соединиться", "connection"),
    ("внутренняя ошибка", "http_5xx"),
    ("слишком много", "http_429"),
)


def parse_legacy(text: str) -> Reason | None:
    """A Russian sentence stored before reasons were codes → a reason (None for "")."""
    import re

    text = (text or "").strip()
    if not text:
        return None
    if text in _LEGACY_EXACT:
        return Reason(_LEGACY_EXACT[text])
    if text.startswith("Сервис карт семьи недоступен"):
        cause = next((c for words, c in _LEGACY_CAUSES if words in text), "")
        return Reason(ReasonCode.CARD_UNAVAILABLE, {"cause": cause} if cause else {})
    if text.startswith("Сервис карт семьи вернул некорректную карту"):
        m = re.search(r"ошибок: (\d+)", text)
        return Reason(ReasonCode.CARD_MALFORMED, {"count": int(m.group(1)) if m else 0})
    if text.startswith("Карта семьи не прошла проверку"):
        return Reason(ReasonCode.CARD_INVALID, {"count": text.count(";") + 1})
    if text.startswith("Сервис карт семьи отклонил запрос"):
        m = re.search(r"HTTP (\d+)", text)
        return Reason(ReasonCode.CARD_REJECTED, {"http_status": int(m.group(1))} if m else {})
    if text.startswith("Некорректный ИИН"):
        return Reason(ReasonCode.CARD_REJECTED)
    return Reason(ReasonCode.LEGACY, {"text": text[:500]})
