"""The dashboard filters (GET): academic year, period (from/to month), aid kind, ground."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from portal.requests.models import AidKind, Ground, validate_academic_year
from portal.stats.selectors import StatsFilters

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def _month(value: str) -> dt.date | None:
    if not value:
        return None
    m = _MONTH_RE.match(value.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2099:
        raise ValidationError(_("Месяц указывается как ГГГГ-ММ, например 2026-09."))
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


class StatsFilterForm(forms.Form):
    academic_year = forms.CharField(
        label=_("Учебный год"), required=False, validators=[validate_academic_year]
    )
    month_from = forms.CharField(
        label=_("Период с"), required=False, widget=forms.TextInput(attrs={"type": "month"})
    )
    month_to = forms.CharField(
        label=_("по"), required=False, widget=forms.TextInput(attrs={"type": "month"})
    )
    aid_kind = forms.ChoiceField(
        label=_("Вид помощи"), required=False, choices=[("", _("все"))] + AidKind.choices
    )
    ground = forms.ChoiceField(
        label=_("Основание"), required=False, choices=[("", _("все"))] + Ground.choices
    )
    category = forms.ChoiceField(
        label=_("Категория"),
        required=False,
        choices=[("", _("все")), ("0", _("ещё не оценено"))]
        + [(str(c), str(c)) for c in range(1, 7)],
    )
    decision = forms.ChoiceField(
        label=_("Решение"),
        required=False,
        choices=[
            ("", _("все")),
            ("approve", pgettext_lazy("решение", "одобрено")),
            ("reject", pgettext_lazy("решение", "отказано")),
            ("none", pgettext_lazy("решение", "без решения")),
        ],
    )

    def __init__(self, *args, years: list[str] | None = None, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["academic_year"].widget = forms.Select(
            choices=[("", _("все"))] + [(y, y) for y in years or []]
        )
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )

    def clean_month_from(self) -> dt.date | None:
        return _month(self.cleaned_data.get("month_from") or "")

    def clean_month_to(self) -> dt.date | None:
        return _month(self.cleaned_data.get("month_to") or "")

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("month_from"), data.get("month_to")
        if start and end and end < start:
            self.add_error("month_to", _("Конец периода раньше его начала."))
        return data

    def filters(self) -> StatsFilters:
        d = self.cleaned_data
        return StatsFilters(
            academic_year=d.get("academic_year") or None,
            month_from=d.get("month_from"),
            month_to=d.get("month_to"),
            aid_kind=d.get("aid_kind") or None,
            ground=d.get("ground") or None,
            category=int(d["category"]) if d.get("category") not in (None, "") else None,
            decision=d.get("decision") or None,
        )

    def filter_query(self) -> str:
        """The valid filters as a query string, kept through drill-down and exports."""
        if not self.is_bound or not self.is_valid():
            return ""
        values = {k: v for k, v in self.filters().as_dict().items() if v not in (None, "")}
        return urlencode(values)


UNIT_PARAMS = ("level", "code")
FILTER_PARAMS = (
    "academic_year",
    "month_from",
    "month_to",
    "aid_kind",
    "ground",
    "category",
    "decision",
)
_MAX_PARAM = 64


def stats_query_problems(query: QueryDict) -> list[str]:
    """What is wrong with the query string itself (before any lookup): a parameter given twice,
    too long or with control characters. Empty when it is fine."""
    problems = []
    for name in (*UNIT_PARAMS, *FILTER_PARAMS):
        values = query.getlist(name)
        if len(values) > 1:
            problems.append(gettext("Параметр «%(name)s» указан несколько раз.") % {"name": name})
        elif values and (
            len(values[0]) > _MAX_PARAM or any(ord(ch) < 32 or ord(ch) == 127 for ch in values[0])
        ):
            problems.append(gettext("Параметр «%(name)s»: недопустимое значение.") % {"name": name})
    return problems
