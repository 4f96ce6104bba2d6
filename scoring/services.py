"""Writes of rule sets and assessments, and the pure scoring call the command line uses.

Every write is atomic and validates (``full_clean()``) before saving. Rule sets enter as drafts
(:func:`ruleset_import`) and become immutable when published (:func:`ruleset_publish`).
Assessments are created, never changed (:func:`assessment_create`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scoring import engine
from scoring.card import Card, CardError, ParsedCard, Problem, parse_card_document
from scoring.models import Assessment, RuleSet, RuleSetStatus
from scoring.ruleset import RuleSetError, compile_ruleset
from scoring.selectors import compiled_ruleset, ruleset_in_force

__all__ = [
    "assessment_create",
    "ruleset_import",
    "ruleset_publish",
    "score_card_document",
]

CardDocument = Mapping[str, Any] | str | bytes


def _version_exists(version: str) -> RuleSetError:
    reason = format_lazy(
        gettext_lazy("Набор правил версии «{version}» уже есть; дайте новой версии другое имя."),
        version=version,
    )
    return RuleSetError([Problem("version", "version.exists", reason)])


# --------------------------------------------------------------------------- rule sets


@transaction.atomic
def ruleset_import(*, document: dict[str, Any] | str | bytes, created_by: Any = None) -> RuleSet:
    """Validate a ``rule-set/1`` document (mapping or JSON text) and store it as a draft.

    Never publishes. Raises :class:`scoring.ruleset.RuleSetError` (each problem with a path and
    a reason) when the document is invalid or its version is already stored; nothing is saved.
    """
    compiled = compile_ruleset(document)
    if RuleSet.objects.filter(version=compiled.version).exists():
        raise _version_exists(compiled.version)
    ruleset = RuleSet(
        version=compiled.version,
        status=RuleSetStatus.DRAFT,
        effective_from=compiled.effective_from,
        document=compiled.to_dict(),
        created_by=created_by,
    )
    ruleset.full_clean()
    try:
        with transaction.atomic():
            ruleset.save()
    except IntegrityError:  # a concurrent import of the same version won the race
        if RuleSet.objects.filter(version=compiled.version).exists():
            raise _version_exists(compiled.version) from None
        raise
    return ruleset


@transaction.atomic
def ruleset_publish(
    *, ruleset: RuleSet, effective_from: dt.date, published_by: Any = None
) -> RuleSet:
    """Publish a draft rule set from ``effective_from`` on. Its document is frozen from then on.

    The document's own ``effective_from`` is set to the publication date so that an exported
    file says when it applies. Raises ``ValidationError`` unless the rule set is a draft, or
    when another published rule set already takes effect on that date.
    """
    locked = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
    if locked.status != RuleSetStatus.DRAFT:
        raise ValidationError(
            {"status": _("Опубликовать можно только черновик набора правил.")},
            code="not_draft",
        )
    document = dict(locked.document)
    document["effective_from"] = effective_from.isoformat()
    compile_ruleset(document)  # still valid with the new date (RuleSetError otherwise)
    locked.document = document
    locked.effective_from = effective_from
    locked.status = RuleSetStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.published_by = published_by
    locked.full_clean()
    locked.save()
    ruleset.refresh_from_db()
    return locked


# --------------------------------------------------------------------------- scoring


def _as_of_not_in_future(card: Card, today: dt.date) -> None:
    """A card read "in the future" cannot be right: refused here, the engine has no clock."""
    if card.as_of > today:
        reason = format_lazy(
            gettext_lazy("Дата карты ({as_of}) позже сегодняшней ({today})."),
            as_of=card.as_of.isoformat(),
            today=today.isoformat(),
        )
        raise CardError([Problem("as_of", "as_of.future", reason)])


def _parsed(card: ParsedCard | None, card_doc: CardDocument | None) -> ParsedCard:
    if (card is None) == (card_doc is None):
        raise TypeError("give exactly one of card= (a ParsedCard) and card_doc=")
    if card is not None:
        if not isinstance(card, ParsedCard):
            raise TypeError("card= takes a ParsedCard (scoring.card.parse_card_document)")
        return card
    assert card_doc is not None
    return parse_card_document(card_doc)


def score_card_document(
    *,
    card_doc: CardDocument | None = None,
    ruleset: RuleSet,
    card: ParsedCard | None = None,
    today: dt.date | None = None,
) -> engine.Assessment:
    """Parse, validate and score a card with ``ruleset``. Pure: nothing is saved.

    Raises :class:`scoring.card.CardError` for an invalid card or one dated after ``today``
    (default: the local date), :class:`scoring.ruleset.MissingParameterError` when the rule set
    has no ПМ/МЗП for the card's ``as_of`` year.
    """
    parsed = _parsed(card, card_doc)
    _as_of_not_in_future(parsed.card, today or timezone.localdate())
    return engine.assess(parsed.card, compiled_ruleset(ruleset), card_sha256=parsed.sha256)


@transaction.atomic
def assessment_create(
    *,
    card: ParsedCard | None = None,
    card_doc: CardDocument | None = None,
    ruleset: RuleSet | None = None,
    previous: Assessment | None = None,
    on: dt.date | None = None,
) -> Assessment:
    """Score a card and store the assessment: frozen card, SHA-256, result and full trace.

    ``card`` is the card as parsed once where it entered (:class:`scoring.card.ParsedCard`, e.g.
    ``FetchedCard.parsed``); ``card_doc`` (a mapping or JSON text) is parsed here instead. Give
    exactly one. The rule set is the one in force on ``on`` (default today) unless given.
    ``previous`` is the assessment this one supersedes (re-scoring); it is linked, never
    changed. Raises :class:`scoring.card.CardError` for an invalid card or one dated after
    today, ``RuleSet.DoesNotExist`` when no rule set is in force,
    :class:`scoring.ruleset.MissingParameterError` when the rule set lacks the card year's
    ПМ/МЗП; nothing is saved then.
    """
    assessment = assessment_build(
        card=card, card_doc=card_doc, ruleset=ruleset, previous=previous, on=on
    )
    assessment.save()
    return assessment


def assessment_build(
    *,
    card: ParsedCard | None = None,
    card_doc: CardDocument | None = None,
    ruleset: RuleSet | None = None,
    previous: Assessment | None = None,
    on: dt.date | None = None,
) -> Assessment:
    """The assessment :func:`assessment_create` stores, validated and not saved yet (a scoring
    batch inserts many with one ``bulk_create``). Raises what :func:`assessment_create` raises.
    """
    parsed = _parsed(card, card_doc)
    today = timezone.localdate()
    _as_of_not_in_future(parsed.card, max(today, on) if on is not None else today)
    if ruleset is None:
        ruleset = ruleset_in_force(on=on)
    result = engine.assess(parsed.card, compiled_ruleset(ruleset), card_sha256=parsed.sha256)
    assessment = Assessment(
        card=parsed.document,  # exact numbers; stored without losing a digit
        card_sha256=parsed.sha256,
        ruleset=ruleset,
        ruleset_version=ruleset.version,
        category=result.category,
        high_welfare=result.high_welfare,
        markers=list(result.markers),
        trace=result.to_dict(),
        previous=previous,
    )
    # The rule set and the previous assessment are loaded objects; the public id is new and
    # the database enforces keys and checks: validate the fields without extra queries.
    assessment.full_clean(
        exclude=["ruleset", "previous"], validate_unique=False, validate_constraints=False
    )
    return assessment


# --------------------------------------------------------------------------- retention erasure

#: What an erased card becomes. ``card_sha256`` keeps the hash of the card that was scored.
ERASED_CARD: dict[str, Any] = {"erased": True}
#: The transaction-local database setting that opens the one exception in the assessment's
#: insert-only trigger (scoring migration 0008): an UPDATE of ``card`` to :data:`ERASED_CARD`
#: and nothing else.
CARD_ERASURE_SETTING = "komek.assessment_card_erasure"


@transaction.atomic
def assessment_cards_erase_for_retention(*, assessment_ids: list[int]) -> int:
    """The one narrow path that may change a frozen assessment: the retention job replaces
    the family card with :data:`ERASED_CARD`. Category, markers, trace, rule-set version and
    ``card_sha256`` stay. Returns the number of cards erased (already erased ones are skipped)."""
    if not assessment_ids:
        return 0
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT set_config(%s, 'on', true)", [CARD_ERASURE_SETTING])
    try:
        erased = (
            Assessment.objects.filter(pk__in=assessment_ids)
            .exclude(card=ERASED_CARD)
            .update(card=ERASED_CARD)
        )
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT set_config(%s, '', true)", [CARD_ERASURE_SETTING])
    return erased
