"""Golden cases: run every active golden card through a (draft) rule set and compare.

Pure reads of scoring models plus the engine; no writes, no portal imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from scoring import engine
from scoring.card import parse_trusted_card
from scoring.models import GoldenCase
from scoring.ruleset import CompiledRuleSet, RuleSetError

__all__ = ["GoldenResult", "golden_cases_run", "golden_failures"]


@dataclass(frozen=True, slots=True)
class GoldenResult:
    case: GoldenCase
    passed: bool
    category: int | None
    high_welfare: bool | None
    error: str
    trace: dict[str, Any] | None


def _run_one(case: GoldenCase, compiled: CompiledRuleSet) -> GoldenResult:
    try:
        card = parse_trusted_card(case.card, case.card_sha256 or None)
        result = engine.assess(card, compiled)
    except RuleSetError as exc:  # e.g. no ПМ for the card's year
        reason = "; ".join(str(p.reason) for p in exc.problems)
        return GoldenResult(case, False, None, None, reason, None)
    except (KeyError, TypeError, ValueError):
        return GoldenResult(case, False, None, None, _("Карта не читается."), None)
    passed = result.category == case.expected_category and (
        case.expected_high_welfare is None or result.high_welfare == case.expected_high_welfare
    )
    return GoldenResult(case, passed, result.category, result.high_welfare, "", result.to_dict())


def golden_cases_run(compiled: CompiledRuleSet, *, active_only: bool = True) -> list[GoldenResult]:
    """Score every (active) golden case with ``compiled``; one result per case."""
    cases = GoldenCase.objects.all()
    if active_only:
        cases = cases.filter(active=True)
    return [_run_one(case, compiled) for case in cases]


def golden_failures(compiled: CompiledRuleSet) -> list[GoldenResult]:
    """The active golden cases ``compiled`` gets wrong."""
    return [r for r in golden_cases_run(compiled) if not r.passed]
