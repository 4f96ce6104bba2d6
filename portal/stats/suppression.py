"""Small-cell suppression: the one module every statistics output goes through.

Every figure shown to a role above the school (pages, charts, table views, CSV/XLSX, the API)
is a *cell* of one lattice built per filter combination over the whole country: every unit
(the republic, each region, district and school) × every figure of its dashboard (totals,
categories, decisions, months, durations, amounts). Cells are tied together by the identities
a reader can use to subtract (``relations``):

* inside a unit: requests = not scored + scored; scored = categories 1–6; requests = approved +
  rejected + no decision; requests = pending + needs review + withdrawn + the rest (not shown);
  each monthly series sums to its total; the duration histogram sums to a count not shown;
* between units: every figure of a parent = the same figure summed over its children (the
  children's rows on the parent's page and the children's own pages).

Primary suppression hides every count ``0 < n < STATS_MIN_CELL``. Complementary suppression
then walks the relations until none of them lets a hidden cell be worked out: a relation
holds either no hidden cell or at least two, and when its total is shown the hidden part of
it (the total minus what is shown) is at least ``STATS_MIN_CELL`` and more than the number of
hidden cells (so that it cannot be "all ones"). The complement chosen is the smallest
non-zero shown part (then the total), in a fixed order, so that every page computing the
same filters hides the same cells. An amount is hidden exactly when the count it sums is.

Zeros are shown (a zero is no one). All hidden cells look the same ("•"), so a reader cannot
tell a small cell from its complement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from django.conf import settings

HIDDEN_MARK = "•"

Cell = Hashable


def min_cell() -> int:
    """The threshold: counts below it are hidden (setting ``STATS_MIN_CELL``, default 5)."""
    return max(1, int(getattr(settings, "STATS_MIN_CELL", 5)))


@dataclass
class Lattice:
    """Cells (count or amount), the relations between them, and which are never shown."""

    values: dict[Cell, int] = field(default_factory=dict)
    relations: list[tuple[Cell, tuple[Cell, ...]]] = field(default_factory=list)
    unshown: set[Cell] = field(default_factory=set)  # never displayed
    # amount cell -> the count cell whose requests it sums
    linked: dict[Cell, Cell] = field(default_factory=dict)

    def add(self, cell: Cell, value: int) -> None:
        self.values[cell] = self.values.get(cell, 0) + int(value)

    def relate(self, total: Cell, parts: Iterable[Cell]) -> None:
        """``total`` = the sum of ``parts`` (zero cells may be left out: zeros are shown)."""
        nonzero = tuple(p for p in parts if self.values.get(p, 0))
        if nonzero or self.values.get(total, 0):
            self.relations.append((total, nonzero))


def _order(cell: Cell) -> str:
    return repr(cell)


def suppress(lattice: Lattice, *, k: int | None = None) -> set[Cell]:
    """The set of hidden cells (primary + complementary + amounts of hidden counts)."""
    k = min_cell() if k is None else k
    values = lattice.values
    amounts = set(lattice.linked)
    # Cells no page shows are treated as known (a reader might derive them): they are hidden
    # only when small or chosen as a complement, and are the first choice of complement.
    hidden: set[Cell] = {c for c, v in values.items() if 0 < v < k and c not in amounts}
    by_cell: dict[Cell, list[int]] = defaultdict(list)
    for i, (total, parts) in enumerate(lattice.relations):
        by_cell[total].append(i)
        for p in parts:
            by_cell[p].append(i)

    def unsafe(i: int) -> bool:
        total, parts = lattice.relations[i]
        n_hidden = (total in hidden) + sum(p in hidden for p in parts)
        if n_hidden == 0:
            return False
        if n_hidden == 1:
            return True
        if total in hidden:
            return False
        hidden_parts = [p for p in parts if p in hidden]
        residual = sum(values.get(p, 0) for p in hidden_parts)
        return residual < k or residual <= len(hidden_parts)

    def complement(i: int) -> Cell | None:
        total, parts = lattice.relations[i]
        candidates = [
            p for p in parts if p not in hidden and p not in amounts and values.get(p, 0) > 0
        ]
        if candidates:
            unshown = lattice.unshown
            return min(candidates, key=lambda p: (p not in unshown, values[p], _order(p)))
        if total not in hidden and total not in amounts and values.get(total, 0) > 0:
            return total
        return None

    pending = sorted(set(range(len(lattice.relations))))
    queued = set(pending)
    while pending:
        i = pending.pop()
        queued.discard(i)
        while unsafe(i):
            cell = complement(i)
            if cell is None:
                break
            hidden.add(cell)
            for j in by_cell[cell]:
                if j not in queued and j != i:
                    queued.add(j)
                    pending.append(j)
    for amount, count in lattice.linked.items():
        if count in hidden:
            hidden.add(amount)
    return hidden
