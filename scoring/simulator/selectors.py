"""Reads of the simulator's tables (no scope: the simulator stands in for an outside service)."""

from __future__ import annotations

from typing import Any

from scoring.simulator.models import SimulatedCard, SimulatedUnknownPerson


def simulated_card_for_iin(iin: str) -> dict[str, Any] | None:
    """The loaded card in which ``iin`` is a member, or None."""
    return SimulatedCard.objects.filter(iin=iin).values_list("card", flat=True).first()


def simulated_cards_for_iins(iins: list[str]) -> dict[str, dict[str, Any]]:
    """The loaded cards of several ИИНs at once (those that have one)."""
    return dict(SimulatedCard.objects.filter(iin__in=iins).values_list("iin", "card"))


def simulated_unknown_among(iins: list[str]) -> set[str]:
    """Which of ``iins`` were marked unknown."""
    return set(SimulatedUnknownPerson.objects.filter(iin__in=iins).values_list("iin", flat=True))


def simulated_person_is_unknown(iin: str) -> bool:
    return SimulatedUnknownPerson.objects.filter(iin=iin).exists()


def simulated_counts() -> dict[str, int]:
    return {
        "member_iins": SimulatedCard.objects.count(),
        "families": SimulatedCard.objects.values("family_id").distinct().count(),
        "unknown_persons": SimulatedUnknownPerson.objects.count(),
    }
