"""Forms of the audit log page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.audit.selectors import ALL, PEOPLE, SYSTEM
from portal.audit.services import AuditAction
from portal.requests.models import validate_iin


def _action_choices() -> list[tuple[str, str]]:
    return [("", _("все действия"))] + sorted(
        ((a.value, a.label) for a in AuditAction), key=lambda p: str(p[1]).lower()
    )


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("События"),
        required=False,
        choices=[(PEOPLE, _("действия людей")), (SYSTEM, _("действия системы")), (ALL, _("все"))],
    )
    person = forms.CharField(label=_("Кто"), required=False, max_length=300)
    school = forms.CharField(label=_("Школа"), required=False, max_length=300)
    action = forms.ChoiceField(label=_("Действие"), required=False, choices=_action_choices)
    request = forms.UUIDField(required=False, widget=forms.HiddenInput)
    user = forms.CharField(required=False, max_length=150, widget=forms.HiddenInput)
    date_from = forms.DateField(
        label=_("С"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("По"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["person"].widget.attrs["placeholder"] = _("ФИО или логин сотрудника")
        self.fields["school"].widget.attrs["placeholder"] = _("название или БИН")
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            if self.is_bound and name in self.errors:
                css += " is-invalid"
            field.widget.attrs.setdefault("class", css)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("Конец периода раньше его начала."))
        return data

    def params(self) -> dict:
        """The filters for the selector: people's events by default."""
        data: dict = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data  # the valid fields: one bad field drops only itself
        return {
            "kind": data.get("kind") or PEOPLE,
            "person": data.get("person") or "",
            "school": data.get("school") or "",
            "action": data.get("action") or "",
            "request_id": data.get("request"),
            "user": data.get("user") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


class PersonViewsForm(forms.Form):
    """ "All views of this person": the ИИН is posted, never put in a URL."""

    NOT_FOUND = _("Заявка не найдена.")

    iin = forms.CharField(
        label=_("ИИН учащегося или родителя"),
        max_length=12,
        validators=[validate_iin],
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "form-control"}
        ),
    )
