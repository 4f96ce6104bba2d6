"""Forms of the appeal pages: filing (the school, for the family) and the reviewer's outcome."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.appeals.models import REASON_MAX_LENGTH, Appeal
from portal.requests.models import Decision

DISPUTE_ROWS = 3


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(d, initial) for d in items]


class AppealForm(forms.Form):
    """The reason, up to three disputed card fields with the claimed values, attachments."""

    reason = forms.CharField(
        label=_("С чем семья не согласна"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Опишите, с чем семья не согласна.")},
    )
    attachments = MultipleFileField(
        label=_("Документы (PDF, JPEG, PNG)"),
        widget=MultipleFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def __init__(self, *args: Any, fields: list[tuple[str, str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— не оспаривается —"))] + [
            (path, f"{words}: {_shown(value)}") for path, words, value in fields
        ]
        for i in range(DISPUTE_ROWS):
            self.fields[f"path_{i}"] = forms.ChoiceField(
                label=_("Оспариваемое сведение %(n)s") % {"n": i + 1},
                choices=choices,
                required=False,
            )
            self.fields[f"claimed_{i}"] = forms.CharField(
                label=_("Верное значение %(n)s") % {"n": i + 1}, required=False, max_length=100
            )

    def disputed(self) -> list[dict[str, Any]]:
        out = []
        for i in range(DISPUTE_ROWS):
            path = self.cleaned_data.get(f"path_{i}")
            if path:
                out.append({"path": path, "claimed": self.cleaned_data.get(f"claimed_{i}", "")})
        return out

    def dispute_rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"path_{i}"], self[f"claimed_{i}"]) for i in range(DISPUTE_ROWS)]


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(_("да") if value else _("нет"))
    return str(value)


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Итог жалобы"),
        choices=Appeal.Outcome.choices,
        error_messages={"required": _("Выберите итог жалобы.")},
    )
    note = forms.CharField(
        label=_("Обоснование итога"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Напишите обоснование итога жалобы.")},
    )
    new_outcome = forms.ChoiceField(
        label=_("Новое решение (если решение изменено)"),
        choices=[("", "—"), *Decision.Outcome.choices],
        required=False,
    )
    amount_kzt = forms.IntegerField(
        label=_("Новая сумма, ₸"), required=False, min_value=1, max_value=10_000_000
    )
