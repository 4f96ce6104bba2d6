"""Forms of network administration. They only carry text: every check is the one the imports
run (schools.services.school_row_validate / staff_row_validate), called by the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _

from schools.models import Role, School

TEXT = {"class": "form-control"}
SELECT = {"class": "form-select"}


class SchoolForm(forms.Form):
    bin = forms.CharField(
        label=_("БИН"),
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "inputmode": "numeric", "autocomplete": "off"}),
    )
    name_ru = forms.CharField(
        label=_("Название (рус.)"), required=False, widget=forms.TextInput(attrs=TEXT)
    )
    name_kk = forms.CharField(
        label=_("Название (каз.)"), required=False, widget=forms.TextInput(attrs=TEXT)
    )
    district = forms.CharField(
        label=_("Район / город"), required=False, widget=forms.Select(attrs=SELECT)
    )
    number = forms.CharField(
        label=_("Номер школы"),
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "inputmode": "numeric"}),
    )
    kind = forms.CharField(
        label=_("Тип"),
        required=False,
        widget=forms.Select(attrs=SELECT, choices=School.Kind.choices),
    )
    language = forms.CharField(
        label=_("Язык обучения"),
        required=False,
        widget=forms.Select(attrs=SELECT, choices=School.Language.choices),
    )
    student_count = forms.CharField(
        label=_("Число учащихся"),
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, districts: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].widget.choices = [("", "—")] + [
            (d.code, f"{d.name} ({d.region.name})") for d in districts
        ]


class StaffForm(forms.Form):
    username = forms.CharField(
        label=_("Логин"),
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "autocomplete": "off"}),
    )
    full_name = forms.CharField(label=_("ФИО"), required=False, widget=forms.TextInput(attrs=TEXT))
    email = forms.CharField(
        label=_("Электронная почта"), required=False, widget=forms.EmailInput(attrs=TEXT)
    )
    role = forms.CharField(
        label=_("Роль"),
        required=False,
        widget=forms.Select(attrs=SELECT, choices=[("", "—"), *Role.choices]),
    )
    unit = forms.CharField(
        label=_("Подразделение"),
        required=False,
        help_text=_(
            "БИН школы (педагог, директор), код района, например KAR-KAZ (аналитик района), "
            "или код региона KAR / SHY (аналитик региона); для остальных ролей — пусто."
        ),
        widget=forms.TextInput(attrs={**TEXT, "list": "units", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["username"]


class MoveForm(forms.Form):
    school = forms.CharField(
        label=_("Новая школа"), required=False, widget=forms.Select(attrs=SELECT)
    )

    def __init__(self, *args: Any, schools: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].widget.choices = [("", "—")] + [
            (str(s.public_id), f"{s.name} · {s.district.name} · {s.bin}") for s in schools
        ]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Файл CSV или XLSX"),
        validators=[FileExtensionValidator(["csv", "xlsx"])],
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".csv,.xlsx,text/csv"}
        ),
    )
