"""Forms of the aid-request pages (parsing only: the rules live in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.requests.models import (
    COMMENT_MAX_LENGTH,
    MAX_AMOUNT_KZT,
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    AidKind,
    ConsentMethod,
    Decision,
    FamilyLanguage,
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
    guardian_email = forms.EmailField(label=_("Электронная почта родителя"), required=False)
    family_language = forms.ChoiceField(
        label=_("Язык письма и уведомлений"),
        choices=[("", _("— язык обучения школы —")), *FamilyLanguage.choices],
        required=False,
    )
    notices_opt_out = forms.BooleanField(
        label=_("Семья отказалась от SMS и писем"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
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
    """The request list's filters. ``scope`` that sees every school (auditors) adds ``school``."""

    status = forms.ChoiceField(
        label=_("Статус"), choices=[("", _("все статусы")), *Status.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("Категория"),
        choices=[("", _("все категории"))] + [(str(i), str(i)) for i in range(1, 7)],
        required=False,
    )
    high_welfare = forms.ChoiceField(
        label=_("Высокое благосостояние"),
        choices=[
            ("", _("благосостояние: все")),
            ("yes", _("высокое благосостояние")),
            ("no", _("не высокое")),
        ],
        required=False,
    )
    decision = forms.ChoiceField(
        label=_("Решение"),
        choices=[
            ("", _("все решения")),
            ("approve", pgettext_lazy("решение по заявке", "одобрено")),
            ("reject", pgettext_lazy("решение по заявке", "отказано")),
            ("none", _("без решения")),
        ],
        required=False,
    )
    amount_min = forms.IntegerField(
        label=_("Сумма от, ₸"), min_value=0, max_value=MAX_AMOUNT_KZT, required=False
    )
    amount_max = forms.IntegerField(
        label=_("Сумма до, ₸"), min_value=0, max_value=MAX_AMOUNT_KZT, required=False
    )
    ground = forms.ChoiceField(
        label=_("Основание"), choices=[("", _("все основания")), *Ground.choices], required=False
    )
    aid_kind = forms.ChoiceField(
        label=_("Вид помощи"),
        choices=[("", _("все виды помощи")), *AidKind.choices],
        required=False,
    )
    academic_year = forms.CharField(label=_("Учебный год"), required=False, max_length=9)
    q = forms.CharField(label=_("Поиск по ФИО или ИИН"), required=False, max_length=100)
    sort = forms.ChoiceField(
        label=_("Сортировка"),
        choices=[
            ("-created", _("сначала новые")),
            ("created", _("сначала старые")),
            ("name", _("по ФИО")),
            ("-amount", _("по сумме")),
            ("status", _("по статусу")),
            ("category", _("по категории")),
        ],
        required=False,
    )

    def __init__(self, *args: Any, scope: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if scope is not None and scope.sees_all_schools:
            from schools.models import School

            field = forms.ModelChoiceField(
                label=_("Школа"),
                queryset=School.objects.for_scope(scope).select_related("district"),
                to_field_name="public_id",
                required=False,
                empty_label=_("все школы"),
            )
            field.label_from_instance = lambda school: school.name
            self.fields["school"] = field

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _("Сумма «до» меньше суммы «от»."))
        return data


class SignatureForm(forms.Form):
    """The principal's second signature: sign, or refuse with a reason."""

    action = forms.ChoiceField(
        label=_("Подпись"),
        choices=[("sign", _("подписать")), ("refuse", _("отказать в подписи"))],
    )
    reason = forms.CharField(
        label=_("Причина отказа"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "refuse" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Напишите, почему вы не подписываете решение."))
        return data
