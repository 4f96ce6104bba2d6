"""Reads for aid requests. The first keyword argument is always `scope`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from portal.requests.models import AidRequest, AidRequestScoring, Decision, Status
from portal.requests.recommendation import Recommendation, recommend
from schools.identifiers import is_twelve_digits
from schools.iinkey import iin_digest
from schools.scope import Scope, require

SORTS = {
    "created": "created_at",
    "-created": "-created_at",
    "name": "student_full_name",
    "-name": "-student_full_name",
    "amount": "amount_kzt",
    "-amount": "-amount_kzt",
    "status": "status",
    "-status": "-status",
    "category": "latest_category",
    "-category": "-latest_category",
}
FILTERS = ("status", "ground", "aid_kind", "academic_year")
#: The list's filters beyond the plain fields (see :func:`aid_requests_for_scope`).
RESULT_FILTERS = ("category", "high_welfare", "decision", "amount_min", "amount_max", "school")


def require_family_access(scope: Scope) -> None:
    """Family-level data: the school's own staff, auditors and superusers only (else 403)."""
    require(scope, "sees_family_data", _("Данные семей видят только сотрудники школы и аудиторы."))


def _with_results(qs: QuerySet[AidRequest]) -> QuerySet[AidRequest]:
    """Each request with its latest assessment's category and flag, and its latest decision."""
    latest = AidRequestScoring.objects.filter(request=OuterRef("pk")).order_by("-attempt")
    decision = (
        Decision.objects.filter(request=OuterRef("pk")).not_void().order_by("-created_at", "-id")
    )
    return qs.annotate(
        latest_category=Subquery(latest.values("assessment__category")[:1]),
        latest_high_welfare=Subquery(latest.values("assessment__high_welfare")[:1]),
        latest_ruleset_id=Subquery(latest.values("assessment__ruleset_id")[:1]),
        decision_outcome=Subquery(decision.values("outcome")[:1]),
        decision_amount=Subquery(decision.values("amount_kzt")[:1]),
        decision_signature=Subquery(decision.values("signature")[:1]),
    )


def aid_requests_for_scope(
    *,
    scope: Scope,
    filters: dict[str, Any] | None = None,
    search: str = "",
    sort: str = "-created",
) -> QuerySet[AidRequest]:
    """Requests in scope with their results (``latest_category``, ``latest_high_welfare``,
    ``decision_outcome``, ``decision_amount``), filtered and sorted.

    ``filters``: the plain fields of :data:`FILTERS`, and ``category`` (1–6, of the latest
    assessment), ``high_welfare`` (``yes`` / ``no``), ``decision`` (``approve`` / ``reject`` /
    ``none``), ``amount_min`` / ``amount_max`` (the requested amount, ₸), ``school`` (a School
    or its public id; only within the scope).
    """
    require_family_access(scope)
    qs = _with_results(AidRequest.objects.for_scope(scope).select_related("school"))
    filters = filters or {}
    for name in FILTERS:
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("category"):
        qs = qs.filter(latest_category=filters["category"])
    if filters.get("high_welfare") in ("yes", "no"):
        qs = qs.filter(latest_high_welfare=filters["high_welfare"] == "yes")
    if filters.get("decision") == "none":
        qs = qs.filter(decision_outcome__isnull=True)
    elif filters.get("decision") in Decision.Outcome.values:
        qs = qs.filter(decision_outcome=filters["decision"])
    if filters.get("amount_min") not in (None, ""):
        qs = qs.filter(amount_kzt__gte=filters["amount_min"])
    if filters.get("amount_max") not in (None, ""):
        qs = qs.filter(amount_kzt__lte=filters["amount_max"])
    school = filters.get("school")
    if school:
        qs = qs.filter(school__public_id=getattr(school, "public_id", school))
    search = (search or "").strip()
    if search:
        if is_twelve_digits(search):
            # a whole ИИН: looked up through its keyed hash (never in a query's text)
            digest = iin_digest(search)
            qs = qs.filter(Q(student_iin_hmac=digest) | Q(guardian_iin_hmac=digest))
        elif search.isascii() and search.isdigit():
            qs = qs.filter(Q(student_iin__startswith=search) | Q(guardian_iin__startswith=search))
        else:
            qs = qs.filter(
                Q(student_full_name__icontains=search) | Q(guardian_full_name__icontains=search)
            )
    order = SORTS.get(sort, "-created_at")
    if order.lstrip("-") == "latest_category":
        field = F("latest_category")
        order = field.desc(nulls_last=True) if order.startswith("-") else field.asc(nulls_last=True)
    return qs.order_by(order, "-id")


@dataclass(frozen=True)
class AidRequestRow:
    """One line of the request list, with every result already in words."""

    aid_request: AidRequest
    school: str
    category: int | None
    category_label: str
    high_welfare: bool
    high_welfare_label: str
    decision_label: str
    approved_amount: int | None


def _decision_label(decided: dict[str, str], r: AidRequest) -> str:
    label = decided.get(r.decision_outcome, "")
    if label and r.decision_signature == Decision.Signature.PENDING:
        return _("%(decision)s, ждёт подписи директора") % {"decision": label}
    return label


def aid_request_rows(*, scope: Any, requests: Any) -> list[AidRequestRow]:
    """The list's rows for ``requests`` (from :func:`aid_requests_for_scope`, one page)."""
    from scoring.models import RuleSet
    from scoring.selectors import compiled_ruleset

    require_family_access(scope)
    requests = list(requests)
    rulesets = {
        rs.pk: compiled_ruleset(rs)
        for rs in RuleSet.objects.filter(
            pk__in={r.latest_ruleset_id for r in requests if r.latest_ruleset_id}
        )
    }
    language = _lang(None)
    decided = {
        Decision.Outcome.APPROVE: pgettext("решение по заявке", "одобрено"),
        Decision.Outcome.REJECT: pgettext("решение по заявке", "отказано"),
    }
    rows = []
    for r in requests:
        compiled = rulesets.get(r.latest_ruleset_id)
        category = r.latest_category
        rows.append(
            AidRequestRow(
                aid_request=r,
                school=r.school.name,
                category=category,
                category_label=compiled.category_label(category, language)
                if compiled is not None and category
                else "",
                high_welfare=bool(r.latest_high_welfare),
                high_welfare_label=_("высокое благосостояние") if r.latest_high_welfare else "",
                decision_label=_decision_label(decided, r),
                approved_amount=r.decision_amount,
            )
        )
    return rows


def aid_request_get(*, scope: Scope, public_id: Any) -> AidRequest:
    """One request in scope; missing and out-of-scope are the same 404."""
    require_family_access(scope)
    try:
        return AidRequest.objects.for_scope(scope).select_related("school").get(public_id=public_id)
    except (AidRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


@dataclass
class AidRequestView:
    """Everything the detail page / API shows about one request."""

    aid_request: AidRequest
    assessment: Any
    recommendation: Recommendation | None
    decision: Decision | None
    decisions: list[Decision]
    category_label: str
    marker_labels: list[str]
    criteria: list[dict[str, Any]]
    history: list[Any]
    #: Created in this request (no letter, appeal or decision can exist yet).
    new: bool = False
    #: Other schools' open requests for the same child, kind and year, as the submission
    #: found them (None: look them up).
    duplicates: list[Any] | None = None


def _compiled(assessment: Any) -> Any:
    """The assessment's rule set, compiled (cached per process): it owns the labels."""
    from scoring.selectors import compiled_ruleset

    return compiled_ruleset(assessment.ruleset)


def _lang(lang: str | None) -> str:
    code = (lang or get_language() or "ru")[:2]
    return code if code in {"ru", "kk", "en"} else "ru"


def category_label(assessment: Any, lang: str | None = None) -> str:
    return _compiled(assessment).category_label(assessment.category, _lang(lang))


def marker_labels(assessment: Any, lang: str | None = None) -> list[str]:
    """The markers that fired, named in the user's language (the reason for category 6)."""
    compiled = _compiled(assessment)
    return [compiled.criterion_label(code, _lang(lang)) for code in assessment.markers or []]


def criteria_rows(assessment: Any, lang: str | None = None) -> list[dict[str, Any]]:
    """Per criterion: label, value, and each comparison (effect, op, threshold, fired)."""
    compiled, language = _compiled(assessment), _lang(lang)
    rows = []
    for entry in (assessment.trace or {}).get("criteria", []):
        value = entry.get("value")
        if isinstance(value, dict):
            value = value.get("decimal")
        rows.append(
            {
                "code": entry["code"],
                "label": compiled.criterion_label(entry["code"], language),
                "value": value,
                "checks": entry.get("checks", []),
                "fired": any(c.get("fired") for c in entry.get("checks", [])),
            }
        )
    return rows


def aid_request_view_new(*, scope: Scope, aid_request: AidRequest) -> AidRequestView:
    """The view of a request its caller has just created in this transaction: nothing has
    been scored, decided, lettered or appealed yet, so nothing is read (the 201 answer of a
    submission: it equals :func:`aid_request_view` for the new row, without its queries)."""
    from portal.budgets.duplicates import submitted_duplicates

    require_family_access(scope)
    return AidRequestView(
        aid_request=aid_request,
        assessment=None,
        recommendation=None,
        decision=None,
        decisions=[],
        category_label="",
        marker_labels=[],
        criteria=[],
        history=[],
        new=True,
        duplicates=submitted_duplicates(aid_request),
    )


def aid_request_view(*, scope: Scope, aid_request: AidRequest) -> AidRequestView:
    require_family_access(scope)
    scoring_rows = list(
        AidRequestScoring.objects.select_related("assessment", "assessment__ruleset")
        .filter(request=aid_request)
        .order_by("-attempt")
    )
    assessment = scoring_rows[0].assessment if scoring_rows else None
    rec = recommend(assessment.category, assessment.markers) if assessment else None
    decisions = list(
        Decision.objects.filter(request=aid_request)
        .select_related("signed_by__membership")
        .order_by("-created_at", "-id")
    )
    current = next((d for d in decisions if not d.is_void and d.superseded_at is None), None)
    return AidRequestView(
        aid_request=aid_request,
        assessment=assessment,
        recommendation=rec,
        decision=current,
        decisions=decisions,
        category_label=category_label(assessment) if assessment else "",
        marker_labels=marker_labels(assessment) if assessment else [],
        criteria=criteria_rows(assessment) if assessment else [],
        history=[s.assessment for s in scoring_rows[1:]],
    )


# --------------------------------------------------------------------------- explanation


@dataclass
class AssessmentExplanation:
    """The result page's plain-language explanation and its criteria table, in one language."""

    explanation: Any  # scoring.explanation.Explanation
    criteria: list[Any]  # scoring.explanation.CriterionRow
    what_would_change: list[dict[str, Any]]


def aid_request_explanation(
    *, scope: Any, assessment: Any, language: str | None = None
) -> AssessmentExplanation | None:
    """Why the family of a request's assessment is in its category (None if unreadable).

    ``assessment`` is one the caller reached through its request with ``scope``.
    """

    require_family_access(scope)
    return assessment_explanation(assessment=assessment, language=language)


def assessment_explanation(
    *, assessment: Any, language: str | None = None
) -> AssessmentExplanation | None:
    """The explanation of an assessment the caller has already been allowed to read (the
    request page, or an appeal of the reviewer's district): no scope check here."""
    import datetime as dt

    from scoring.counterfactual_text import describe_items
    from scoring.explanation import criteria_table, explain
    from scoring.selectors import assessment_counterfactuals

    if assessment is None:
        return None
    lang = _lang(language)
    try:
        compiled = _compiled(assessment)
        as_of = (assessment.card or {}).get("as_of")
        explanation = explain(
            assessment.trace,
            compiled,
            lang,
            as_of=dt.date.fromisoformat(as_of) if isinstance(as_of, str) else None,
        )
        rows = criteria_table(assessment.trace, compiled, lang)
    except (ValueError, KeyError, TypeError):
        return None
    cf = assessment_counterfactuals(assessment=assessment)
    changes = describe_items(cf, compiled, lang) if cf is not None else []
    return AssessmentExplanation(explanation, rows, changes)


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a request's history, in words (the reader's language)."""

    when: Any  # datetime
    action: str
    text: str
    actor: str  # the person, or "" for the system
    role: str
    is_system: bool


#: Views (and the worker picking the request up) are in the audit log, not in the history.
_NOT_HISTORY = frozenset({"aid_request.view", "aid_request.list_view", "aid_request.scoring_start"})


def _review_reason(code: str) -> str:
    """A reason code of an audit row in words (today's codes, and those of older rows)."""
    from portal.requests.reasons import ReasonCode

    if code in ReasonCode.values:
        return str(ReasonCode(code).label)
    reasons = {
        "consent": _("нет действующего согласия на обработку данных семьи"),
        "unavailable": _("сервис карт семьи недоступен"),
        "not_found": _("карта семьи не найдена"),
        "malformed": _("карта семьи пришла повреждённой"),
        "card": _("карта семьи не прошла проверку"),
    }
    return reasons.get(code, "")


def _history_text(action: str, detail: dict[str, Any], decisions: dict[str, Decision]) -> str:
    from portal.audit.services import AuditAction

    try:
        label = str(AuditAction(action).label)
    except ValueError:
        label = action
    label = label[:1].upper() + label[1:]
    status_labels = dict(Status.choices)
    if action == "aid_request.submit":
        if detail.get("status") == Status.NEEDS_REVIEW:
            return _("Заявка подана; сразу отправлена на проверку: нет действующего согласия.")
        return _("Заявка подана и поставлена в очередь на оценку.")
    if action == "aid_request.scored" and isinstance(detail.get("category"), int):
        if (detail.get("attempt") or 1) > 1:
            return _("Оценена повторно: категория %(category)d.") % {"category": detail["category"]}
        return _("Оценена: категория %(category)d.") % {"category": detail["category"]}
    if action == "aid_request.needs_review":
        reason = _review_reason(str(detail.get("reason_code", "")))
        if reason:
            return _("Отправлена на проверку: %(reason)s.") % {"reason": reason}
        return _("Отправлена на проверку.")
    if action == "aid_request.requeue":
        if detail.get("after") == "card_unavailable":
            return _("Сервис карт семьи снова доступен: заявка вернулась в очередь.")
        previous = status_labels.get(detail.get("from", ""), "")
        if previous:
            return _("Снова поставлена в очередь (задержалась в статусе «%(status)s»).") % {
                "status": previous
            }
    if action == "aid_request.rescore" and isinstance(detail.get("category"), int):
        return _("Пересчитана по набору правил %(version)s: категория %(old)s → %(new)s.") % {
            "version": detail.get("ruleset_version", ""),
            "old": detail.get("previous_category", "—"),
            "new": detail["category"],
        }
    if action == "aid_request.decide":
        decision = decisions.get(str(detail.get("decision", "")))
        outcome = detail.get("outcome") or (decision.outcome if decision else "")
        if outcome == Decision.Outcome.APPROVE:
            if decision is not None and decision.amount_kzt:
                from scoring.counterfactual_text import format_money

                text = _("Решение: одобрить, %(amount)s.") % {
                    "amount": format_money(decision.amount_kzt, _lang(None))
                }
            else:
                text = _("Решение: одобрить.")
        elif outcome == Decision.Outcome.REJECT:
            text = _("Решение: отказать.")
        else:
            text = label + "."
        if detail.get("against_recommendation"):
            text += " " + _("Вопреки рекомендации, с обоснованием.")
        return text
    if action == "aid_request.contest":
        return _("Оценка оспорена: карта семьи запрошена заново.")
    if action == "aid_request.withdraw":
        return _("Заявка отозвана.")
    return label + "."


def aid_request_history(*, scope: Any, request: AidRequest) -> list[HistoryEntry]:
    """What happened to ``request`` (oldest first), who did it and when, from its audit rows.

    Views of the request are left out (they are in the audit log). ``request`` must be in
    ``scope`` (else 404, as everywhere).
    """
    from django.contrib.auth import get_user_model

    from portal.audit.models import AuditEvent
    from schools.models import Membership, Role

    require_family_access(scope)
    if not scope.contains_school(request.school_id):
        raise Http404
    events = list(
        AuditEvent.objects.filter(object_type="aid_request", object_id=str(request.public_id))
        .exclude(action__in=_NOT_HISTORY)
        .order_by("created_at", "id")
    )
    actor_ids = {e.actor_id for e in events if e.actor_id}
    names = dict(
        Membership.objects.filter(user_id__in=actor_ids).values_list("user_id", "full_name")
    )
    usernames = dict(
        get_user_model().objects.filter(pk__in=actor_ids).values_list("pk", "username")
    )
    roles = dict(Role.choices)
    decisions = {str(d.public_id): d for d in Decision.objects.filter(request=request)}
    out = []
    for e in events:
        system = not e.actor_id
        out.append(
            HistoryEntry(
                when=e.created_at,
                action=e.action,
                text=_history_text(e.action, e.detail or {}, decisions),
                actor=""
                if system
                else names.get(e.actor_id) or usernames.get(e.actor_id) or e.actor_username,
                role="" if system else str(roles.get(e.role, "")),
                is_system=system,
            )
        )
    return out


# --------------------------------------------------------------------------- signatures


def decisions_awaiting_signature(*, scope: Scope) -> QuerySet[Decision]:
    """Decisions of the scope's school waiting for the principal's second signature, oldest
    first (of requests still decided). Only principals see the list (else 403)."""
    require(scope, "can_sign_decisions", _("Решения подписывает только директор школы."))
    return (
        Decision.objects.awaiting_signature()
        .filter(request__school_id__in=scope.school_ids, request__status=Status.DECIDED)
        .select_related("request", "request__school", "decided_by__membership")
        .order_by("created_at", "id")
    )
