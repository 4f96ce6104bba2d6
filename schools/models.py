"""Regions, districts, schools and staff memberships: the units the portal is organised by."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from schools.identifiers import bin_error


def _localized(obj: models.Model, stem: str) -> str:
    lang = (get_language() or "ru")[:2]
    value = getattr(obj, f"{stem}_{lang}", "") if lang in {"ru", "kk", "en"} else ""
    return value or getattr(obj, f"{stem}_ru")


def validate_bin(value: str) -> None:
    error = bin_error(value)
    if error == "format":
        raise ValidationError(_("БИН должен состоять из 12 цифр."), code="bin_format")
    if error == "checksum":
        raise ValidationError(
            _("БИН %(value)s не проходит проверку контрольной цифры."),
            code="bin_checksum",
            params={"value": value},
        )


class Region(models.Model):
    code = models.CharField(_("код"), max_length=8, unique=True)
    name_ru = models.CharField(_("название (рус.)"), max_length=200)
    name_kk = models.CharField(_("название (каз.)"), max_length=200)
    name_en = models.CharField(_("название (англ.)"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("регион")
        verbose_name_plural = _("регионы")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localized(self, "name")


class District(models.Model):
    class Kind(models.TextChoices):
        CITY = "city", _("город областного значения")
        CITY_DISTRICT = "city_district", _("район города")
        DISTRICT = "district", _("район")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="districts")
    code = models.CharField(_("код"), max_length=16, unique=True)
    kind = models.CharField(_("вид"), max_length=16, choices=Kind.choices)
    name_ru = models.CharField(_("название (рус.)"), max_length=200)
    name_kk = models.CharField(_("название (каз.)"), max_length=200)
    name_en = models.CharField(_("название (англ.)"), max_length=200)

    class Meta:
        ordering = ["region__code", "code"]
        verbose_name = _("район / город")
        verbose_name_plural = _("районы и города")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localized(self, "name")


class SchoolQuerySet(models.QuerySet):
    def for_scope(self, scope) -> SchoolQuerySet:  # noqa: ANN001 - Scope (import cycle)
        if scope.sees_all_schools:
            return self
        return self.filter(pk__in=scope.school_ids)

    def unscoped(self) -> SchoolQuerySet:
        """Deliberate cross-school access (reference-data jobs only)."""
        return self


class School(models.Model):
    class Kind(models.TextChoices):
        SCHOOL = "school", _("общеобразовательная школа")
        GYMNASIUM = "gymnasium", _("гимназия")
        LYCEUM = "lyceum", _("лицей")
        SCHOOL_LYCEUM = "school_lyceum", _("школа-лицей")
        SCHOOL_GYMNASIUM = "school_gymnasium", _("школа-гимназия")
        BOARDING = "boarding", _("школа-интернат")

    class Language(models.TextChoices):
        KK = "kk", _("казахский")
        RU = "ru", _("русский")
        MIXED = "mixed", _("смешанный")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    bin = models.CharField(_("БИН"), max_length=12, unique=True, validators=[validate_bin])
    name_ru = models.CharField(_("название (рус.)"), max_length=300)
    name_kk = models.CharField(_("название (каз.)"), max_length=300)
    number = models.PositiveIntegerField(_("номер"), null=True, blank=True)
    kind = models.CharField(_("тип"), max_length=20, choices=Kind.choices, default=Kind.SCHOOL)
    language = models.CharField(
        _("язык обучения"), max_length=8, choices=Language.choices, default=Language.MIXED
    )
    connected = models.BooleanField(_("подключена к пилоту"), default=True)
    student_count = models.PositiveIntegerField(_("число учащихся"), default=0)

    objects = SchoolQuerySet.as_manager()

    class Meta:
        ordering = ["district__region__code", "district__code", "number", "name_ru"]
        verbose_name = _("школа")
        verbose_name_plural = _("школы")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        lang = (get_language() or "ru")[:2]
        return self.name_kk if lang == "kk" and self.name_kk else self.name_ru

    @property
    def region(self) -> Region:
        return self.district.region


class Role(models.TextChoices):
    PEDAGOGUE = "pedagogue", _("социальный педагог")
    PRINCIPAL = "principal", _("директор школы")
    DISTRICT_ANALYST = "district_analyst", _("аналитик района")
    REGION_ANALYST = "region_analyst", _("аналитик региона")
    MINISTRY_ANALYST = "ministry_analyst", _("аналитик министерства")
    RULES_ADMIN = "rules_admin", _("администратор правил")
    AUDITOR = "auditor", _("аудитор")
    NETWORK_ADMIN = "network_admin", _("администратор сети школ")
    DISTRICT_FINANCE = "district_finance", _("финансист отдела образования района")
    DISTRICT_REVIEWER = "district_reviewer", _("рассматривает жалобы (отдел образования района)")


SCHOOL_ROLES = frozenset({Role.PEDAGOGUE, Role.PRINCIPAL})
UNIT_ROLE_LEVEL = {
    Role.PEDAGOGUE: "school",
    Role.PRINCIPAL: "school",
    Role.DISTRICT_ANALYST: "district",
    Role.REGION_ANALYST: "region",
    Role.MINISTRY_ANALYST: "national",
    Role.RULES_ADMIN: "national",
    Role.AUDITOR: "national",
    Role.NETWORK_ADMIN: "national",
    Role.DISTRICT_FINANCE: "district",
    Role.DISTRICT_REVIEWER: "district",
}


class Membership(models.Model):
    """A staff member's role and unit. One per user: the role decides the scope."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    full_name = models.CharField(_("ФИО"), max_length=300)

    # The register of processing (portal.privacy.register) reads this declaration.
    PERSONAL_DATA = {
        "fields": ("full_name",),
        "kind": _("ФИО сотрудника и его роль"),
        "purpose": _("Вход в портал, права доступа и журнал аудита"),
        "roles": ("network_admin", "auditor"),
        "retention": (),
    }
    role = models.CharField(_("роль"), max_length=32, choices=Role.choices)
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    is_demo = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("сотрудник")
        verbose_name_plural = _("сотрудники")
        constraints = [
            models.CheckConstraint(
                name="membership_unit_matches_role",
                condition=(
                    Q(
                        role__in=["pedagogue", "principal"],
                        school__isnull=False,
                        district__isnull=True,
                        region__isnull=True,
                    )
                    | Q(
                        role__in=["district_analyst", "district_finance", "district_reviewer"],
                        school__isnull=True,
                        district__isnull=False,
                        region__isnull=True,
                    )
                    | Q(
                        role="region_analyst",
                        school__isnull=True,
                        district__isnull=True,
                        region__isnull=False,
                    )
                    | Q(
                        role__in=["ministry_analyst", "rules_admin", "auditor", "network_admin"],
                        school__isnull=True,
                        district__isnull=True,
                        region__isnull=True,
                    )
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()})"

    def clean(self) -> None:
        level = UNIT_ROLE_LEVEL.get(self.role)
        errors = {}
        if level == "school" and not self.school_id:
            errors["school"] = _("Для этой роли нужна школа.")
        if level == "district" and not self.district_id:
            errors["district"] = _("Для этой роли нужен район.")
        if level == "region" and not self.region_id:
            errors["region"] = _("Для этой роли нужен регион.")
        if errors:
            raise ValidationError(errors)
        if level != "school":
            self.school = None
        if level != "district":
            self.district = None
        if level != "region":
            self.region = None
