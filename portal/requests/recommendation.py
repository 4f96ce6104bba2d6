"""Decision support (DOMAIN §6.6): an assessment's category → a recommendation. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

EXCLUDE = "exclude"
SUPPORTS = "supports_below_subsistence"
NO_OBJECTION = "no_objection"

TEXTS = {
    EXCLUDE: _("не нуждается в дополнительной поддержке из местного бюджета"),
    SUPPORTS: _(
        "доход на члена семьи ниже прожиточного минимума: подтверждает основание "
        "«доход ниже прожиточного минимума»"
    ),
    NO_OBJECTION: _("возражений по результатам оценки нет; школа решает по заявленному основанию"),
}


@dataclass(frozen=True)
class Recommendation:
    code: str
    markers: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return str(TEXTS[self.code])

    def is_against(self, outcome: str) -> bool:
        """Whether deciding `outcome` ("approve" / "reject") goes against this recommendation."""
        if self.code == EXCLUDE:
            return outcome == "approve"
        if self.code == SUPPORTS:
            return outcome == "reject"
        return False


def recommend(category: int, markers: Sequence[str] = ()) -> Recommendation:
    if category == 6:
        return Recommendation(EXCLUDE, tuple(markers))
    if category in (1, 2):
        return Recommendation(SUPPORTS)
    return Recommendation(NO_OBJECTION)
