"""Forms of the aid-request pages (parsing only: the rules live in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext_lazy as _

from portal.requests.models import (
    COMMENT_MAX_LENGTH,
    MAX_AMOUNT_KZT,
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    AidKind,
    ConsentMethod,
    Decision,
    Ground,
    Status,
    validate_academic_year,
    validate_iin,
    validate_phone,
)


class DateInput(forms.DateInput):
    input_type = "date"


class AidRequestForm(forms.Form):
    """The request form (new and resubmitted). The service validates everything again."""

    student_iin = forms.CharField(
        label=_("ИИН учащегося"), max_length=12, validators=[validate_iin]
    )
    student_full_name = forms.CharField(label=_("ФИО учащегося"), max_length=NAME_MAX_LENGTH)
    grade = forms.IntegerField(label=_("Класс"), min_value=0, max_value=11)
    guardian_iin = forms.CharField(
        label=_("ИИН родителя / законного представителя"), max_length=12, validators=[validate_iin]
    )
    guardian_full_name = forms.CharField(
        label=_("ФИО родителя / законного представителя"), max_length=NAME_MAX_LENGTH
    )
    guardian_phone = forms.CharField(
        label=_("Телефон"), max_length=20, validators=[validate_phone], initial="+7"
    )
    ground = forms.ChoiceField(label=_("Основание"), choices=Ground.choices)
    aid_kind = forms.ChoiceField(label=_("Вид помощи"), choices=AidKind.choices)
    amount_kzt = forms.IntegerField(label=_("Сумма, ₸"), min_value=1, max_value=MAX_AMOUNT_KZT)
    academic_year = forms.CharField(
        label=_("Учебный год"),
        max_length=9,
        validators=[validate_academic_year],
        initial="2026-2027",
    )
    comment = forms.CharField(
        label=_("Комментарий"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    consent_method = forms.ChoiceField(
        label=_("Способ согласия"),
        choices=[("", _("— согласия нет —")), *ConsentMethod.choices],
        required=False,
    )
    consent_reference = forms.CharField(
        label=_("Номер / ссылка согласия"), max_length=100, required=False
    )
    consent_given_on = forms.DateField(label=_("Дата согласия"), required=False, widget=DateInput)
    consent_valid_until = forms.DateField(
        label=_("Согласие действует до"), required=False, widget=DateInput
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        given, until = data.get("consent_given_on"), data.get("consent_valid_until")
        if data.get("consent_method"):
            for name, message in (
                ("consent_reference", _("Укажите номер или ссылку согласия.")),
                ("consent_given_on", _("Укажите дату согласия.")),
                ("consent_valid_until", _("Укажите, до какой даты действует согласие.")),
            ):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
        if given and until and until < given:
            self.add_error(
                "consent_valid_until", _("Срок действия согласия раньше даты его получения.")
            )
        return data


class DecisionForm(forms.Form):
    """No outcome is chosen for the user; the amount is at most the requested one."""

    outcome = forms.ChoiceField(
        label=_("Решение"), choices=[("", _("— выберите —")), *Decision.Outcome.choices]
    )
    amount_kzt = forms.IntegerField(
        label=_("Сумма, ₸"), min_value=1, max_value=MAX_AMOUNT_KZT, required=False
    )
    reason = forms.CharField(
        label=_("Обоснование"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, requested_amount: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requested_amount = requested_amount
        if requested_amount:
            self.fields["amount_kzt"].widget.attrs["max"] = requested_amount
            self.fields["amount_kzt"].help_text = _("не больше запрошенной: %(max)s ₸") % {
                "max": intcomma(requested_amount)
            }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        amount = data.get("amount_kzt")
        if data.get("outcome") == Decision.Outcome.APPROVE and not amount:
            self.add_error("amount_kzt", _("Укажите сумму помощи."))
        if amount and self.requested_amount and amount > self.requested_amount:
            self.add_error(
                "amount_kzt",
                _("Одобренная сумма не может быть больше запрошенной (%(max)s ₸).")
                % {"max": intcomma(self.requested_amount)},
            )
        return data


class FilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", _("все статусы")), *Status.choices], required=False)
    category = forms.ChoiceField(
        choices=[("", _("все категории"))] + [(str(i), str(i)) for i in range(1, 7)], required=False
    )
    ground = forms.ChoiceField(choices=[("", _("все основания")), *Ground.choices], required=False)
    aid_kind = forms.ChoiceField(
        choices=[("", _("все виды помощи")), *AidKind.choices], required=False
    )
    academic_year = forms.CharField(required=False, max_length=9)
    q = forms.CharField(required=False, max_length=100)
    sort = forms.ChoiceField(
        choices=[
            ("-created", _("сначала новые")),
            ("created", _("сначала старые")),
            ("name", _("по ФИО")),
            ("-amount", _("по сумме")),
            ("status", _("по статусу")),
        ],
        required=False,
    )
