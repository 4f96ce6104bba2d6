"""Writes of the simulator: loading family cards and marking persons unknown.

Loading is all-or-nothing: every card of every file is validated with
:func:`scoring.card.parse_card` first; any problem anywhere and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from schools.identifiers import is_valid_iin
from scoring.card import CardError, parse_card_document
from scoring.jsondoc import JSONDocumentError, load_json_document, read_document_bytes
from scoring.simulator.models import SimulatedCard, SimulatedUnknownPerson

_BATCH = 1000
#: A file may hold many cards (a JSON array); each card is still checked on its own.
_MAX_FILE = 64 * 1024 * 1024


@dataclass(frozen=True)
class LoadProblem:
    """Where a card failed: file, index of the card in the file (None: the file itself)."""

    file: str
    index: int | None
    path: str
    reason: Any

    def __str__(self) -> str:
        where = self.file if self.index is None else f"{self.file} [{self.index}]"
        return f"{where} {self.path or '(document)'}: {self.reason}"


@dataclass(frozen=True)
class CardToLoad:
    file: str
    index: int
    doc: dict[str, Any]
    sha256: str
    family_id: str
    member_iins: tuple[str, ...]


@dataclass(frozen=True)
class LoadResult:
    cards: int
    member_iins: int


class CardLoadError(Exception):
    def __init__(self, problems: Sequence[LoadProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{len(self.problems)} problem(s)")


def cards_read_file(path: Path) -> tuple[list[CardToLoad], list[LoadProblem]]:
    """The valid cards of one file (a card or a JSON array of cards) and the problems found."""
    name = str(path)
    try:
        data = load_json_document(read_document_bytes(path, _MAX_FILE), max_bytes=_MAX_FILE)
    except OSError:
        return [], [LoadProblem(name, None, "", _("Файл не удалось прочитать."))]
    except JSONDocumentError as exc:  # invalid, too large, too deeply nested
        return [], [LoadProblem(name, None, "", exc.reason)]
    docs = data if isinstance(data, list) else [data]
    cards: list[CardToLoad] = []
    problems: list[LoadProblem] = []
    for index, doc in enumerate(docs):
        try:
            parsed = parse_card_document(doc)
        except CardError as exc:
            problems += [LoadProblem(name, index, p.path, p.reason) for p in exc.problems]
            continue
        card = parsed.card
        cards.append(
            CardToLoad(
                file=name,
                index=index,
                doc=doc,
                sha256=parsed.sha256,
                family_id=card.family_id,
                member_iins=tuple(m.iin for m in card.members),
            )
        )
    return cards, problems


def cards_check_conflicts(cards: Sequence[CardToLoad]) -> list[LoadProblem]:
    """An ИИН may belong to one card per load (the same card repeated is fine)."""
    owner: dict[str, CardToLoad] = {}
    problems: list[LoadProblem] = []
    for card in cards:
        seen_here: set[str] = set()
        for i, iin in enumerate(card.member_iins):
            path = f"members[{i}].iin"
            if iin in seen_here:
                problems.append(
                    LoadProblem(card.file, card.index, path, _("ИИН повторяется в этой карте."))
                )
                continue
            seen_here.add(iin)
            first = owner.setdefault(iin, card)
            if first is not card and first.sha256 != card.sha256:
                problems.append(
                    LoadProblem(
                        card.file,
                        card.index,
                        path,
                        _("Этот ИИН уже входит в другую карту этой загрузки (%(where)s).")
                        % {"where": f"{first.file} [{first.index}]"},
                    )
                )
    return problems


def simulated_cards_load_files(paths: Iterable[Path]) -> LoadResult:
    """Validate every card of every file, then load them all, or raise :class:`CardLoadError`."""
    cards: list[CardToLoad] = []
    problems: list[LoadProblem] = []
    for path in paths:
        found, bad = cards_read_file(path)
        cards += found
        problems += bad
    problems += cards_check_conflicts(cards)
    if problems:
        raise CardLoadError(problems)
    return simulated_cards_load(cards)


@transaction.atomic
def simulated_cards_load(cards: Sequence[CardToLoad]) -> LoadResult:
    """Upsert one row per member ИИН (re-loading the same card only refreshes it)."""
    now = timezone.now()
    rows: dict[str, SimulatedCard] = {}
    shas: set[str] = set()
    for card in cards:
        shas.add(card.sha256)
        for iin in card.member_iins:
            rows[iin] = SimulatedCard(
                iin=iin,
                family_id=card.family_id,
                card=card.doc,
                card_sha256=card.sha256,
                loaded_at=now,
            )
    objs = list(rows.values())
    for start in range(0, len(objs), _BATCH):
        SimulatedCard.objects.bulk_create(
            objs[start : start + _BATCH],
            update_conflicts=True,
            unique_fields=["iin"],
            update_fields=["family_id", "card", "card_sha256", "loaded_at"],
        )
    return LoadResult(cards=len(shas), member_iins=len(objs))


@transaction.atomic
def simulated_persons_mark_unknown(iins: Iterable[str]) -> int:
    """Make the simulator answer 404 for these ИИНs. Returns how many are marked now."""
    values = sorted(set(iins))
    if any(not is_valid_iin(v) for v in values):
        raise ValueError("not a valid ИИН")
    SimulatedUnknownPerson.objects.bulk_create(
        [SimulatedUnknownPerson(iin=v) for v in values], ignore_conflicts=True
    )
    return len(values)


@transaction.atomic
def simulated_data_clear() -> None:
    """Forget every loaded card and every unknown mark."""
    SimulatedCard.objects.all().delete()
    SimulatedUnknownPerson.objects.all().delete()
