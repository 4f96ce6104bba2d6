"""Forms of the rule-set editor: one form or formset per part of a ``rule-set/1`` document.

:class:`RuleSetEditor` builds every form from a document (GET) or from POST data, assembles
the document back, validates it with :func:`scoring.ruleset.ruleset_problems` and maps each
problem path (``bands[2].income_ratio_below``) to the form field that shows it.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portal.rules.labels import (
    CHOICE_NAMES,
    OP_NAMES,
    criterion_choices,
    criterion_name,
    problem_text,
)
from scoring.card import CardError, canonical_json, load_json_document, parse_card
from scoring.criteria import CRITERIA
from scoring.ruleset import RULESET_SCHEMA, ruleset_problems

_P = RULESET_SCHEMA["properties"]["parameters"]["properties"]
VEHICLE_KINDS = [(k, CHOICE_NAMES.get(k, k)) for k in _P["counted_vehicle_kinds"]["items"]["enum"]]
EDUCATION_LEVELS = [
    (k, CHOICE_NAMES.get(k, k)) for k in _P["adult_education_sufficient"]["items"]["enum"]
]
OP_CHOICES = [("", "—")] + [
    (o, _("равно (да/нет)") if o == "is" else OP_NAMES.get(o, o))
    for o in RULESET_SCHEMA["$defs"]["op"]["enum"]
]
MODE_CHOICES = [
    ("any", _("любой из маркеров")),
    ("all", _("все маркеры сразу")),
    ("at_least", _("не менее k маркеров")),
]
LANGS = ("ru", "kk", "en")
_LABEL_MISSING = {
    "ru": _("Заполните название на русском языке."),
    "kk": _("Заполните название на казахском языке."),
    "en": _("Заполните название на английском языке."),
}


def _style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.CheckboxSelectMultiple | forms.CheckboxInput | forms.HiddenInput):
            continue
        css = (
            "form-select form-select-sm"
            if isinstance(w, forms.Select)
            else "form-control form-control-sm"
        )
        w.attrs.setdefault("class", css)


class StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class GeneralForm(StyledForm):
    description_ru = forms.CharField(label=_("Описание (рус.)"), required=False, max_length=500)
    description_kk = forms.CharField(label=_("Описание (каз.)"), required=False, max_length=500)
    description_en = forms.CharField(label=_("Описание (англ.)"), required=False, max_length=500)


class ParametersForm(StyledForm):
    hidden_income_factor = forms.CharField(
        label=_("Коэффициент скрытого дохода"), required=False, max_length=32
    )
    informal_work_age_min = forms.IntegerField(
        label=_("Возраст неформальной занятости: от"), required=False
    )
    informal_work_age_max = forms.IntegerField(
        label=_("Возраст неформальной занятости: до"), required=False
    )
    dependant_min_age = forms.IntegerField(label=_("Возраст иждивенца: от"), required=False)
    new_vehicle_max_age_years = forms.IntegerField(
        label=_("Новый автомобиль: возраст не более, лет"), required=False
    )
    counted_vehicle_kinds = forms.MultipleChoiceField(
        label=_("Учитываемые виды транспорта"),
        choices=VEHICLE_KINDS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    adult_education_sufficient = forms.MultipleChoiceField(
        label=_("Достаточное образование взрослых"),
        choices=EDUCATION_LEVELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class YearForm(StyledForm):
    year = forms.IntegerField(label=_("Год"), min_value=1900, max_value=2200)
    subsistence_minimum = forms.IntegerField(label=_("ПМ, ₸"), required=False)
    minimum_wage = forms.IntegerField(label=_("МЗП, ₸"), required=False)


class BaseYearFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        seen: set[int] = set()
        for form in self.forms:
            if not form.has_changed() and form.empty_permitted:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            year = form.cleaned_data.get("year")
            if year in seen:
                form.add_error("year", _("Этот год уже указан в таблице."))
            seen.add(year)


class HighWelfareForm(StyledForm):
    mode = forms.ChoiceField(label=_("Сочетание маркеров"), choices=MODE_CHOICES)
    min_count = forms.IntegerField(label=_("k (для «не менее k»)"), required=False)


class ConditionForm(StyledForm):
    criterion = forms.ChoiceField(label=_("Критерий"), choices=[("", "—")])
    op = forms.ChoiceField(label=_("Оператор"), choices=OP_CHOICES)
    value = forms.CharField(
        label=_("Порог"),
        max_length=32,
        required=False,
        help_text=_("Число («2», «0.5») или да/нет для критериев «да/нет»."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Criterion names in the reader's language, never the internal codes.
        self.fields["criterion"].choices = criterion_choices()


class PointRuleForm(ConditionForm):
    points = forms.IntegerField(label=_("Баллы"), required=False)


class BandForm(StyledForm):
    category = forms.IntegerField(widget=forms.HiddenInput)
    ratio_from = forms.CharField(label=_("От (включительно)"), required=False, max_length=32)
    income_ratio_below = forms.CharField(
        label=_("До (не включая); пусто — без верхней границы"), required=False, max_length=32
    )


class ShiftForm(StyledForm):
    net_at_least = forms.IntegerField(
        label=_("Чистый балл не менее; пусто — все остальные"), required=False
    )
    shift = forms.IntegerField(label=_("Сдвиг категории"), required=False)


class LabelForm(StyledForm):
    key = forms.CharField(widget=forms.HiddenInput)
    ru = forms.CharField(label=_("рус."), required=False, max_length=500)
    kk = forms.CharField(label=_("каз."), required=False, max_length=500)
    en = forms.CharField(label=_("англ."), required=False, max_length=500)


YearFormSet = forms.formset_factory(YearForm, formset=BaseYearFormSet, extra=1, can_delete=True)
ConditionFormSet = forms.formset_factory(ConditionForm, extra=1, can_delete=True)
PointRuleFormSet = forms.formset_factory(PointRuleForm, extra=1, can_delete=True)
BandFormSet = forms.formset_factory(BandForm, extra=0, min_num=5, max_num=5, validate_max=True)
ShiftFormSet = forms.formset_factory(ShiftForm, extra=1, can_delete=True)
LabelFormSet = forms.formset_factory(LabelForm, extra=0)


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(_("да") if value else _("нет"))
    return "" if value is None else str(value)


def _value_doc(text: str) -> Any:
    t = (text or "").strip()
    yes = {"true", "да", "иә", "yes", str(_("да")).lower()}
    no = {"false", "нет", "жоқ", "no", str(_("нет")).lower()}
    if t.lower() in yes | no:
        return t.lower() in yes
    return t.replace(",", ".")


def _decimal_or_none(text: str) -> Fraction | None:
    try:
        return Fraction((text or "").strip().replace(",", "."))
    except (ValueError, ZeroDivisionError):
        return None


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(path: str) -> list[str | int]:
    return [int(i) if i else name for name, i in _TOKEN.findall(path)]


class RuleSetEditor:
    """Every form of the editor, bound to POST data or filled from a document."""

    def __init__(self, document: dict[str, Any], data: Any = None) -> None:
        self.base = document
        d = document
        p = d["parameters"]
        years = sorted({*p["subsistence_minimum"], *p["minimum_wage"]})
        bands = d["bands"]
        kw = {"data": data} if data is not None else {}
        self.general = GeneralForm(
            prefix="general",
            initial={f"description_{lang}": d["description"].get(lang, "") for lang in LANGS},
            **kw,
        )
        self.parameters = ParametersForm(
            prefix="params",
            initial={
                "hidden_income_factor": p["hidden_income_factor"],
                "informal_work_age_min": p["informal_work_age"]["min"],
                "informal_work_age_max": p["informal_work_age"]["max"],
                "dependant_min_age": p["dependant_min_age"],
                "new_vehicle_max_age_years": p["new_vehicle_max_age_years"],
                "counted_vehicle_kinds": p["counted_vehicle_kinds"],
                "adult_education_sufficient": p["adult_education_sufficient"],
            },
            **kw,
        )
        self.years = YearFormSet(
            prefix="years",
            initial=[
                {
                    "year": int(y),
                    "subsistence_minimum": p["subsistence_minimum"].get(y),
                    "minimum_wage": p["minimum_wage"].get(y),
                }
                for y in years
            ],
            **kw,
        )
        hw = d["high_welfare"]
        self.high_welfare = HighWelfareForm(
            prefix="hw", initial={"mode": hw["mode"], "min_count": hw["min_count"]}, **kw
        )
        self.markers = ConditionFormSet(
            prefix="markers",
            initial=[{**m, "value": _value_text(m["value"])} for m in hw["markers"]],
            **kw,
        )
        self.bands = BandFormSet(
            prefix="bands",
            initial=[
                {
                    "category": b["category"],
                    "ratio_from": "0"
                    if i == 0
                    else _value_text(bands[i - 1]["income_ratio_below"]),
                    "income_ratio_below": _value_text(b["income_ratio_below"]),
                }
                for i, b in enumerate(bands)
            ],
            **kw,
        )
        self.vulnerability = PointRuleFormSet(
            prefix="vuln",
            initial=[{**r, "value": _value_text(r["value"])} for r in d["vulnerability_points"]],
            **kw,
        )
        self.wealth = PointRuleFormSet(
            prefix="wealth",
            initial=[{**r, "value": _value_text(r["value"])} for r in d["wealth_points"]],
            **kw,
        )
        self.shift = ShiftFormSet(prefix="shift", initial=list(d["shift"]), **kw)
        labels = d["labels"]
        self.category_labels = LabelFormSet(
            prefix="catlabels",
            initial=[{"key": str(k), **labels["categories"].get(str(k), {})} for k in range(1, 7)],
            **kw,
        )
        self.criterion_labels = LabelFormSet(
            prefix="critlabels",
            initial=[{"key": c.code, **labels["criteria"].get(c.code, {})} for c in CRITERIA],
            **kw,
        )
        # What a person reads in the first column of the label tables (never the codes).
        for form, c in zip(self.criterion_labels.forms, CRITERIA, strict=False):
            form.title = criterion_name(c.code, d)
        for form, k in zip(self.category_labels.forms, range(1, 7), strict=False):
            form.title = _("Категория %(n)s") % {"n": k}
        self.non_field_errors: list[str] = []
        self.document: dict[str, Any] | None = None
        # document list index → form, filled by _assemble
        self._rows: dict[str, list[forms.Form]] = {}

    # ---- helpers --------------------------------------------------------------------------
    def all_forms(self) -> list[Any]:
        return [
            self.general,
            self.parameters,
            self.years,
            self.high_welfare,
            self.markers,
            self.bands,
            self.vulnerability,
            self.wealth,
            self.shift,
            self.category_labels,
            self.criterion_labels,
        ]

    @staticmethod
    def _kept(formset: forms.BaseFormSet) -> list[forms.Form]:
        out = []
        for form in formset.forms:
            if not form.has_changed() and form.empty_permitted:
                continue
            if formset.can_delete and formset._should_delete_form(form):
                continue
            out.append(form)
        return out

    def _check_bands(self) -> None:
        previous: str | None = None
        for i, form in enumerate(self.bands.forms):
            start = form.cleaned_data.get("ratio_from") or ""
            below = form.cleaned_data.get("income_ratio_below") or ""
            if i == 0:
                if start.strip() and _decimal_or_none(start) != 0:
                    form.add_error(
                        "ratio_from",
                        _(
                            "Первый интервал должен начинаться с 0, иначе малые доходы не попадут ни в один интервал."
                        ),
                    )
            elif previous is not None:
                a, b = _decimal_or_none(start), _decimal_or_none(previous)
                if a is None or b is None:
                    if start.strip() != previous.strip():
                        form.add_error(
                            "ratio_from",
                            format_lazy(
                                _(
                                    "Начало интервала должно совпадать с концом предыдущего ({bound})."
                                ),
                                bound=previous or "—",
                            ),
                        )
                elif a > b:
                    form.add_error(
                        "ratio_from",
                        format_lazy(
                            _(
                                "Разрыв: предыдущий интервал заканчивается на {bound}, а этот начинается с {start}; отношения между ними не попадут ни в одну категорию."
                            ),
                            bound=previous,
                            start=start,
                        ),
                    )
                elif a < b:
                    form.add_error(
                        "ratio_from",
                        format_lazy(
                            _(
                                "Перекрытие: предыдущий интервал заканчивается на {bound}, а этот начинается с {start}."
                            ),
                            bound=previous,
                            start=start,
                        ),
                    )
            previous = below

    def _assemble(self) -> dict[str, Any]:
        doc = json.loads(canonical_json(self.base))
        g = self.general.cleaned_data
        doc["description"] = {lang: g.get(f"description_{lang}") or "" for lang in LANGS}
        c = self.parameters.cleaned_data
        p = doc["parameters"]
        p["hidden_income_factor"] = (c.get("hidden_income_factor") or "").strip().replace(",", ".")
        p["informal_work_age"] = {
            "min": c.get("informal_work_age_min"),
            "max": c.get("informal_work_age_max"),
        }
        p["dependant_min_age"] = c.get("dependant_min_age")
        p["new_vehicle_max_age_years"] = c.get("new_vehicle_max_age_years")
        p["counted_vehicle_kinds"] = list(c.get("counted_vehicle_kinds") or [])
        p["adult_education_sufficient"] = list(c.get("adult_education_sufficient") or [])
        pm: dict[str, Any] = {}
        mw: dict[str, Any] = {}
        self._year_rows: dict[str, forms.Form] = {}
        for form in self._kept(self.years):
            y = str(form.cleaned_data["year"])
            self._year_rows[y] = form
            if form.cleaned_data.get("subsistence_minimum") is not None:
                pm[y] = form.cleaned_data["subsistence_minimum"]
            if form.cleaned_data.get("minimum_wage") is not None:
                mw[y] = form.cleaned_data["minimum_wage"]
        p["subsistence_minimum"], p["minimum_wage"] = pm, mw

        hw = self.high_welfare.cleaned_data
        markers = self._kept(self.markers)
        self._rows["markers"] = markers
        doc["high_welfare"] = {
            "mode": hw.get("mode"),
            "min_count": hw.get("min_count") if hw.get("min_count") is not None else 1,
            "markers": [
                {
                    "criterion": f.cleaned_data["criterion"],
                    "op": f.cleaned_data["op"],
                    "value": _value_doc(f.cleaned_data.get("value", "")),
                }
                for f in markers
            ],
        }
        doc["bands"] = [
            {
                "category": i + 1,
                "income_ratio_below": (f.cleaned_data.get("income_ratio_below") or "")
                .strip()
                .replace(",", ".")
                or None,
            }
            for i, f in enumerate(self.bands.forms)
        ]
        for key, formset, section in (
            ("vulnerability_points", self.vulnerability, "vuln"),
            ("wealth_points", self.wealth, "wealth"),
        ):
            rows = self._kept(formset)
            self._rows[section] = rows
            doc[key] = [
                {
                    "criterion": f.cleaned_data["criterion"],
                    "op": f.cleaned_data["op"],
                    "value": _value_doc(f.cleaned_data.get("value", "")),
                    "points": f.cleaned_data.get("points"),
                }
                for f in rows
            ]
        shift_rows = self._kept(self.shift)
        self._rows["shift"] = shift_rows
        doc["shift"] = [
            {
                "net_at_least": f.cleaned_data.get("net_at_least"),
                "shift": f.cleaned_data.get("shift"),
            }
            for f in shift_rows
        ]
        doc["labels"] = {
            "categories": {
                f.cleaned_data["key"]: {lang: f.cleaned_data.get(lang) or "" for lang in LANGS}
                for f in self.category_labels.forms
            },
            "criteria": {
                f.cleaned_data["key"]: {lang: f.cleaned_data.get(lang) or "" for lang in LANGS}
                for f in self.criterion_labels.forms
            },
        }
        return doc

    def _target(self, parts: list[str | int]) -> tuple[Any, str | None]:
        """(form, field) for a problem path; (None, None) when nothing fits."""
        head = parts[0] if parts else ""
        rest = parts[1:]
        if head == "description" and rest:
            return self.general, f"description_{rest[0]}"
        if head == "parameters" and rest:
            name = rest[0]
            if name in ("subsistence_minimum", "minimum_wage"):
                if len(rest) > 1 and str(rest[1]) in getattr(self, "_year_rows", {}):
                    return self._year_rows[str(rest[1])], name
                return self.years, None
            if name == "informal_work_age":
                return self.parameters, f"informal_work_age_{rest[1] if len(rest) > 1 else 'min'}"
            if name in self.parameters.fields:
                return self.parameters, name
            return self.parameters, None
        if head == "high_welfare":
            if rest and rest[0] == "markers":
                rows = self._rows.get("markers", [])
                if len(rest) > 1 and isinstance(rest[1], int) and rest[1] < len(rows):
                    field = rest[2] if len(rest) > 2 else None
                    return rows[rest[1]], field if field in ConditionForm.base_fields else None
                return self.markers, None
            if rest and rest[0] in ("mode", "min_count"):
                return self.high_welfare, str(rest[0])
            return self.high_welfare, None
        if head == "bands":
            if rest and isinstance(rest[0], int) and rest[0] < len(self.bands.forms):
                field = rest[1] if len(rest) > 1 else None
                return self.bands.forms[rest[0]], (
                    "income_ratio_below"
                    if field in (None, "income_ratio_below", "category")
                    else None
                )
            return self.bands, None
        for key, section, form_class in (
            ("vulnerability_points", "vuln", PointRuleForm),
            ("wealth_points", "wealth", PointRuleForm),
            ("shift", "shift", ShiftForm),
        ):
            if head == key:
                rows = self._rows.get(section, [])
                if rest and isinstance(rest[0], int) and rest[0] < len(rows):
                    field = rest[1] if len(rest) > 1 else None
                    return rows[rest[0]], field if field in form_class.base_fields else None
                return {"vuln": self.vulnerability, "wealth": self.wealth, "shift": self.shift}[
                    section
                ], None
        if head == "labels" and len(rest) >= 2:
            formset = self.category_labels if rest[0] == "categories" else self.criterion_labels
            for form in formset.forms:
                if form.cleaned_data.get("key") == str(rest[1]):
                    lang = rest[2] if len(rest) > 2 else None
                    return form, lang if lang in LANGS else None
            return formset, None
        return None, None

    def _add_problem(self, path: str, reason: Any, code: str = "") -> None:
        parts = _parts(path)
        target, field = self._target(parts)
        message = str(reason)
        if (
            parts
            and parts[0] in ("labels", "description")
            and code in ("schema.minLength", "schema.pattern", "schema.required")
            and field in LANGS
        ):
            message = str(_LABEL_MISSING[field])
        text = problem_text(path, message, self.base)
        if isinstance(target, forms.BaseFormSet):
            target._non_form_errors = target.non_form_errors()  # noqa: SLF001
            if text not in target._non_form_errors:
                target._non_form_errors.append(text)
            return
        if target is None:
            if text not in self.non_field_errors:
                self.non_field_errors.append(text)
            return
        if field is not None and field in target.fields:
            if message not in target.errors.get(field, []):
                target.add_error(field, message)
        else:
            target.add_error(None, text)

    def is_valid(self) -> bool:
        """Validate the forms, assemble the document and check it with ``ruleset_problems``."""
        ok = all(f.is_valid() for f in self.all_forms())
        if not self.bands.is_valid():
            return False
        self._check_bands()
        if not ok or any(f.errors for f in self.bands.forms):
            return False
        doc = self._assemble()
        problems = ruleset_problems(doc)
        for problem in problems:
            self._add_problem(problem.path, problem.reason, problem.code)
        if problems:
            return False
        self.document = doc
        return True

    @property
    def has_errors(self) -> bool:
        if self.non_field_errors:
            return True
        for f in self.all_forms():
            if isinstance(f, forms.BaseFormSet):
                if f.non_form_errors() or any(form.errors for form in f.forms):
                    return True
            elif f.errors:
                return True
        return False


# --------------------------------------------------------------------------- other forms


class DraftCreateForm(forms.Form):
    version = forms.RegexField(
        label=_("Имя новой версии"),
        max_length=32,
        regex=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        error_messages={
            "invalid": _("Только латинские буквы, цифры, точка, дефис и подчёркивание.")
        },
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "KZ-2027.1"}),
    )


class GoldenCaseForm(forms.Form):
    name = forms.CharField(
        label=_("Название"), max_length=200, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    card_file = forms.FileField(
        label=_("Файл карты семьи (family-card/1, JSON)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".json"}),
    )
    assessment_id = forms.UUIDField(
        label=_("…или публичный идентификатор сохранённой оценки"),
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    expected_category = forms.TypedChoiceField(
        label=_("Ожидаемая категория"),
        choices=[(i, str(i)) for i in range(1, 7)],
        coerce=int,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    expected_high_welfare = forms.NullBooleanField(
        label=_("Ожидаемый признак высокого благосостояния"),
        required=False,
        widget=forms.Select(
            attrs={"class": "form-select"},
            choices=[("unknown", _("не проверять")), ("true", _("да")), ("false", _("нет"))],
        ),
    )

    MAX_BYTES = 256 * 1024

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("card_file")
        if bool(upload) == bool(data.get("assessment_id")):
            raise ValidationError(
                _("Загрузите файл карты или укажите идентификатор оценки (что-то одно).")
            )
        if upload:
            if upload.size > self.MAX_BYTES:
                self.add_error("card_file", _("Файл слишком большой (не более 256 КБ)."))
                return data
            raw = upload.read()
            try:
                doc = load_json_document(raw)
                parse_card(doc)
            except CardError as exc:
                shown = "; ".join(f"{p.path or '—'}: {p.reason}" for p in exc.problems[:5])
                self.add_error(
                    "card_file",
                    format_lazy(_("Это не карта семьи family-card/1: {problems}"), problems=shown),
                )
                return data
            except ValueError as exc:
                self.add_error(
                    "card_file",
                    format_lazy(_("Файл не является корректным JSON: {error}"), error=exc),
                )
                return data
            data["card"] = doc
        return data


class PreviewForm(forms.Form):
    period_from = forms.DateField(
        label=_("Оценки с"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "class": "form-control"}),
    )
    period_to = forms.DateField(
        label=_("по"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "class": "form-control"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        a, b = data.get("period_from"), data.get("period_to")
        if a and b and b < a:
            self.add_error("period_to", _("Конец периода раньше его начала."))
        return data


class PublishForm(forms.Form):
    effective_from = forms.DateField(
        label=_("Действует с"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "class": "form-control"}),
    )


class DiffForm(forms.Form):
    old = forms.ChoiceField(
        label=_("Версия A"), widget=forms.Select(attrs={"class": "form-select"})
    )
    new = forms.ChoiceField(
        label=_("Версия B"), widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args: Any, versions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(v, v) for v in versions]
        self.fields["old"].choices = choices
        self.fields["new"].choices = choices
