"""The decision letter as a PDF: a Django template rendered by WeasyPrint (DejaVu fonts).

:func:`letter_context` gathers everything the letter says, in one language, from the stored
letter, its decision and the decision's frozen assessment (the exact engine trace, rule-set
labels and the "what would change the outcome" sentences); :func:`letter_pdf` renders it.
Nothing here writes; the audited entry point is ``portal.letters.services.letter_download``.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.letters.models import Letter

# Items of "what would change the outcome" worth printing for a family (at most this many).
MAX_CHANGES = 3


def verification_url(letter: Letter) -> str:
    path = reverse("letters:verify", kwargs={"code": letter.code_grouped})
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def qr_data_uri(text: str) -> str:
    import segno

    return segno.make(text, error="m").svg_data_uri(scale=3, border=2)


def _school_name(school: Any, language: str) -> str:
    return (school.name_kk if language == "kk" and school.name_kk else "") or school.name_ru


def _date(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.strftime("%d.%m.%Y")


def _reasons(assessment: Any, compiled: Any, language: str) -> dict[str, Any]:
    """The reasons of the category in plain words (the engine's exact trace)."""
    from scoring import engine
    from scoring.counterfactual_text import format_money, format_number

    stored = engine.Assessment.from_dict(assessment.trace)
    year = dt.date.fromisoformat(str(assessment.card["as_of"])).year
    pm = compiled.subsistence_minimum_for(year)
    per_capita = Fraction(stored.value("per_capita_income"))
    ratio = Fraction(stored.value("income_ratio"))
    lines: list[str] = []
    if stored.value("hidden_income"):
        lines.append(
            _(
                "Обороты по банковским картам семьи намного больше заявленного дохода, поэтому "
                "доход семьи посчитан по оборотам."
            )
        )
    lines.append(
        _(
            "Доход на одного члена семьи — %(income)s в месяц. Прожиточный минимум %(year)d года "
            "— %(pm)s, то есть доход составляет %(ratio)s прожиточного минимума."
        )
        % {
            "income": format_money(per_capita, language),
            "year": year,
            "pm": format_money(pm, language),
            "ratio": format_number(round(ratio, 2), language),
        }
    )
    markers = [compiled.criterion_label(c, language) for c in stored.markers]
    if stored.category == 6 and markers:
        lines.append(
            _(
                "Категория 6 присвоена, потому что выполнены признаки высокого благосостояния: "
                "%(markers)s."
            )
            % {"markers": "; ".join(markers)}
        )
        return {"lines": lines, "markers": markers}
    lines.append(_("По доходу это категория %(base)d.") % {"base": stored.base_category})
    vulnerability = [compiled.criterion_label(c, language) for c in stored.vulnerability]
    wealth = [compiled.criterion_label(c, language) for c in stored.wealth]
    if vulnerability:
        lines.append(
            _("Обстоятельства, повышающие нуждаемость (по баллу каждое): %(items)s.")
            % {"items": "; ".join(vulnerability)}
        )
    if wealth:
        lines.append(
            _("Признаки достатка (по баллу каждый): %(items)s.") % {"items": "; ".join(wealth)}
        )
    if stored.shift:
        lines.append(
            _("С учётом этих баллов категория изменена с %(base)d на %(category)d.")
            % {"base": stored.base_category, "category": stored.category}
        )
    elif vulnerability or wealth:
        lines.append(_("Эти баллы не изменили категорию."))
    return {"lines": lines, "markers": markers}


def _changes(assessment: Any, compiled: Any, language: str, decision: Any) -> list[str]:
    """ "What would change the outcome", where it helps: a refusal, category 6, borderline."""
    from scoring.counterfactual_text import describe_items
    from scoring.selectors import assessment_counterfactuals

    cf = assessment_counterfactuals(assessment=assessment)
    if cf is None:
        return []
    if not (decision.outcome == "reject" or assessment.category == 6 or cf.borderline):
        return []
    items = [i for i in describe_items(cf, compiled, language) if i["kind"] in ("input", "markers")]
    return [i["text"] for i in items[:MAX_CHANGES]]


def letter_context(letter: Letter, language: str) -> dict[str, Any]:
    """Everything the letter says, in ``language`` (kk, ru or en)."""
    from portal.requests.selectors import category_label
    from scoring.selectors import compiled_ruleset

    decision = letter.decision
    req = letter.request
    school = letter.school
    assessment = decision.assessment
    with translation.override(language):
        ctx: dict[str, Any] = {
            "language": language,
            "letter": letter,
            "code": letter.code_grouped,
            "verify_url": verification_url(letter),
            "qr": qr_data_uri(verification_url(letter)),
            "school_name": _school_name(school, language),
            "district_name": school.district.name,
            "region_name": school.district.region.name,
            "student_name": req.student_full_name,
            "grade": req.grade,
            "guardian_name": req.guardian_full_name,
            "aid_kind": req.get_aid_kind_display(),
            "academic_year": req.academic_year,
            "submitted_on": _date(req.created_at),
            "decided_on": _date(decision.created_at),
            "issued_on": _date(letter.issued_at),
            "approved": decision.outcome == "approve",
            "amount": None,
            "appeal_until": _date(letter.appeal_until),
            "appeal_days": int(settings.LETTER_APPEAL_DAYS),
            "superseded": letter.status == Letter.Status.SUPERSEDED,
            "assessment": assessment,
            "reasons": [],
            "changes": [],
        }
        if decision.amount_kzt:
            from scoring.counterfactual_text import format_money

            ctx["amount"] = format_money(decision.amount_kzt, language)
        if assessment is not None:
            compiled = compiled_ruleset(assessment.ruleset)
            ctx["category"] = assessment.category
            ctx["category_label"] = category_label(assessment, language)
            ctx["ruleset_version"] = assessment.ruleset_version
            ctx["reasons"] = _reasons(assessment, compiled, language)["lines"]
            ctx["changes"] = _changes(assessment, compiled, language, decision)
    return ctx


def letter_html(letter: Letter, language: str) -> tuple[str, str]:
    """The letter's HTML and its stylesheet (kept apart: no inline style in any template)."""
    ctx = letter_context(letter, language)
    with translation.override(language):
        return (
            render_to_string("letters/letter.html", ctx),
            render_to_string("letters/letter.css", ctx),
        )


def letter_pdf(letter: Letter, language: str) -> bytes:
    """The PDF (WeasyPrint; fonts from the system: DejaVu Sans covers Kazakh)."""
    from weasyprint import CSS, HTML

    html, css = letter_html(letter, language)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        stylesheets=[CSS(string=css)]
    )
