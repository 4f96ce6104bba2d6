"""Reads of rule sets and assessments.

Rule sets are national reference data (no scope). Assessments hold family data: callers reach
them through their owner (the aid request) with its scope; :func:`assessment_chain` only walks
the ``previous`` links of an assessment the caller already holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict

from django.utils import timezone
from django.utils.translation import gettext as _

from scoring import engine
from scoring.card import DocumentError, canonical_json, parse_trusted_card
from scoring.counterfactual import Counterfactuals, what_would_change
from scoring.models import Assessment, RuleSet, RuleSetStatus
from scoring.ruleset import CompiledRuleSet, compile_ruleset

__all__ = [
    "assessment_chain",
    "assessment_counterfactuals",
    "compiled_ruleset",
    "ruleset_by_version",
    "ruleset_in_force",
    "rulesets_all",
]


def ruleset_in_force(*, on: dt.date | None = None) -> RuleSet:
    """The published rule set with the latest ``effective_from`` not after ``on`` (default today).

    Raises ``RuleSet.DoesNotExist`` when no published rule set is in force on that date.
    """
    day = timezone.localdate() if on is None else on
    ruleset = (
        RuleSet.objects.filter(status=RuleSetStatus.PUBLISHED, effective_from__lte=day)
        .order_by("-effective_from", "-published_at", "-pk")
        .first()
    )
    if ruleset is None:
        raise RuleSet.DoesNotExist(
            _("Нет опубликованного набора правил, действующего на %(date)s.")
            % {"date": day.isoformat()}
        )
    return ruleset


def ruleset_by_version(*, version: str) -> RuleSet:
    """The rule set named ``version`` (any status); ``RuleSet.DoesNotExist`` if there is none."""
    try:
        return RuleSet.objects.get(version=version)
    except RuleSet.DoesNotExist:
        raise RuleSet.DoesNotExist(
            _("Набор правил версии «%(version)s» не найден.") % {"version": version}
        ) from None


def rulesets_all() -> list[RuleSet]:
    """Every stored rule set, newest ``effective_from`` first."""
    return list(RuleSet.objects.order_by("-effective_from", "version"))


# Compiled rule sets, per process, keyed by (pk, SHA-256 of the document as it is now). A
# published document never changes; a draft edited in memory gets a new key.
_CACHE_SIZE = 32
_compiled: OrderedDict[tuple[int | None, str], CompiledRuleSet] = OrderedDict()
_compiled_lock = threading.Lock()


def compiled_ruleset(ruleset: RuleSet) -> CompiledRuleSet:
    """``ruleset``'s document compiled for the engine (``RuleSetError`` if it is invalid)."""
    document = canonical_json(ruleset.document)
    key = (ruleset.pk, hashlib.sha256(document).hexdigest())
    with _compiled_lock:
        hit = _compiled.get(key)
        if hit is not None:
            _compiled.move_to_end(key)
            return hit
    compiled = compile_ruleset(document)
    with _compiled_lock:
        _compiled[key] = compiled
        _compiled.move_to_end(key)
        while len(_compiled) > _CACHE_SIZE:
            _compiled.popitem(last=False)
    return compiled


def assessment_chain(*, assessment: Assessment) -> list[Assessment]:
    """``assessment`` and every assessment it superseded, newest first."""
    chain = [assessment]
    seen = {assessment.pk}
    current = assessment
    while current.previous_id is not None and current.previous_id not in seen:
        current = Assessment.objects.select_related("ruleset").get(pk=current.previous_id)
        seen.add(current.pk)
        chain.append(current)
    return chain


def assessment_counterfactuals(*, assessment: Assessment) -> Counterfactuals | None:
    """What would change the outcome of a stored assessment (:mod:`scoring.counterfactual`).

    Computed from the assessment's frozen card and its rule set on every call (about a
    millisecond; see ``bench/scoring.py``): nothing is stored, so the answer always belongs to
    exactly the card and the rule-set version the family was scored with. Returns None when
    the stored rule set no longer reproduces the stored result (a draft edited since it scored
    the card) or cannot be compiled: a page then shows no suggestions rather than wrong ones.
    Like :func:`assessment_chain`, it only reads the assessment the caller already holds
    (reached through its owner with a scope).
    """
    try:
        card = parse_trusted_card(assessment.card, assessment.card_sha256)
        compiled = compiled_ruleset(assessment.ruleset)
        stored = engine.Assessment.from_dict(assessment.trace)
        return what_would_change(card, compiled, stored)
    except (DocumentError, ValueError, KeyError, TypeError):
        return None
