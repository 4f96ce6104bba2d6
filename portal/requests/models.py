"""Aid requests, their scoring attempts and decisions (app label ``portal``: tables unchanged)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.requests.reasons import Reason, ReasonCode, render
from schools.identifiers import iin_error
from schools.iinkey import iin_digest

if TYPE_CHECKING:
    from schools.scope import Scope

MAX_AMOUNT_KZT = 1_000_000
NAME_MAX_LENGTH = 100  # fits the school's list layout
COMMENT_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 4000
CONSENT_MAX_DAYS = 366  # a consent is valid for at most a year
_YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")
_PHONE_RE = re.compile(r"^\+?7\d{10}$")


def validate_iin(value: str) -> None:
    error = iin_error(value)
    if error == "format":
        raise ValidationError(_("ИИН должен состоять из 12 цифр."), code="iin_format")
    if error == "date":
        raise ValidationError(_("Первые цифры ИИН не образуют дату рождения."), code="iin_date")
    if error == "checksum":
        raise ValidationError(_("ИИН не проходит проверку контрольной цифры."), code="iin_checksum")


def validate_academic_year(value: str) -> None:
    m = _YEAR_RE.match(value or "")
    if not m or int(m.group(2)) != int(m.group(1)) + 1 or not 2000 <= int(m.group(1)) <= 2098:
        raise ValidationError(
            _("Учебный год указывается как «2026-2027» (два последовательных года)."),
            code="academic_year",
        )


def validate_phone(value: str) -> None:
    if not _PHONE_RE.match((value or "").replace(" ", "").replace("-", "")):
        raise ValidationError(_("Телефон указывается в формате +7XXXXXXXXXX."), code="phone_format")


class Ground(models.TextChoices):
    ASP = "asp", _("получает АСП")
    BELOW_SUBSISTENCE = "below_subsistence", _("доход ниже прожиточного минимума")
    ORPHAN = "orphan", _("сирота / без попечения родителей")
    EMERGENCY = "emergency", _("пострадавшие от чрезвычайной ситуации")
    BOARD_DECISION = "board_decision", _("решение попечительского совета")


class AidKind(models.TextChoices):
    UNIFORM = "uniform", _("школьная форма и обувь")
    SUPPLIES = "supplies", _("канцелярские и школьные принадлежности")
    SPORTS_UNIFORM = "sports_uniform", _("спортивная форма")
    MEALS = "meals", _("горячее питание")
    OTHER = "other", _("другое")


class ConsentMethod(models.TextChoices):
    EGOV_SMS = "egov_sms", _("SMS через eGov")
    WRITTEN = "written", _("письменное согласие")


class Status(models.TextChoices):
    QUEUED = "queued", _("в очереди на оценку")
    SCORING = "scoring", _("идёт оценка")
    SCORED = "scored", _("оценено")
    DECIDED = "decided", _("решение принято")
    NEEDS_REVIEW = "needs_review", _("требует проверки")
    WITHDRAWN = "withdrawn", _("отозвано")


class FamilyLanguage(models.TextChoices):
    """The family's language: of the decision letter (with English) and of the notices."""

    KK = "kk", _("казахский")
    RU = "ru", _("русский")


ACTIVE_STATUSES = (Status.QUEUED, Status.SCORING)
CLOSED_STATUSES = (Status.WITHDRAWN,)


class AidRequestQuerySet(models.QuerySet):
    def for_scope(self, scope: Scope) -> AidRequestQuerySet:
        if scope.sees_all_schools:
            return self
        return self.filter(school_id__in=scope.school_ids)

    def unscoped(self) -> AidRequestQuerySet:
        """Deliberate cross-school access: the scoring task and the stuck-request sweeper."""
        return self

    def open(self) -> AidRequestQuerySet:
        return self.exclude(status__in=CLOSED_STATUSES)


class AidRequest(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="aid_requests"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    student_iin = models.CharField(_("ИИН учащегося"), max_length=12, validators=[validate_iin])
    student_full_name = models.CharField(_("ФИО учащегося"), max_length=NAME_MAX_LENGTH)
    grade = models.PositiveSmallIntegerField(
        _("класс"), validators=[MinValueValidator(0), MaxValueValidator(11)]
    )
    guardian_iin = models.CharField(
        _("ИИН родителя / законного представителя"), max_length=12, validators=[validate_iin]
    )
    guardian_full_name = models.CharField(
        _("ФИО родителя / законного представителя"), max_length=NAME_MAX_LENGTH
    )
    # Keyed hashes of the two ИИН (schools.iinkey.iin_digest), set by save(): the unique key
    # and every exact lookup use them, so no database log line can carry an ИИН.
    student_iin_hmac = models.CharField(max_length=64, editable=False, blank=True, db_index=True)
    guardian_iin_hmac = models.CharField(max_length=64, editable=False, blank=True, db_index=True)
    guardian_phone = models.CharField(_("телефон"), max_length=20, validators=[validate_phone])
    guardian_email = models.EmailField(_("электронная почта"), blank=True)
    family_language = models.CharField(
        _("язык семьи"), max_length=2, choices=FamilyLanguage.choices, blank=True
    )
    notices_opt_out = models.BooleanField(_("отказ от уведомлений"), default=False)
    notices_opt_out_at = models.DateTimeField(null=True, blank=True)
    ground = models.CharField(_("основание"), max_length=32, choices=Ground.choices)
    aid_kind = models.CharField(_("вид помощи"), max_length=32, choices=AidKind.choices)
    amount_kzt = models.PositiveIntegerField(
        _("сумма, ₸"), validators=[MinValueValidator(1), MaxValueValidator(MAX_AMOUNT_KZT)]
    )
    academic_year = models.CharField(
        _("учебный год"), max_length=9, validators=[validate_academic_year]
    )
    comment = models.TextField(
        _("комментарий"),
        blank=True,
        max_length=COMMENT_MAX_LENGTH,
        validators=[MaxLengthValidator(COMMENT_MAX_LENGTH)],
    )
    consent_method = models.CharField(
        _("способ согласия"), max_length=16, choices=ConsentMethod.choices, blank=True
    )
    consent_reference = models.CharField(_("номер / ссылка согласия"), max_length=100, blank=True)
    consent_given_on = models.DateField(_("дата согласия"), null=True, blank=True)
    consent_valid_until = models.DateField(_("согласие действует до"), null=True, blank=True)
    status = models.CharField(
        _("статус"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    # Why the request is in its state: a code with parameters (portal.requests.reasons).
    status_reason_code = models.CharField(
        _("код причины"), max_length=32, blank=True, choices=ReasonCode.choices
    )
    status_reason_params = models.JSONField(_("параметры причины"), default=dict, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    attempt = models.PositiveIntegerField(default=1)  # current scoring attempt
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AidRequestQuerySet.as_manager()

    # The register of processing (portal.privacy.register) reads this declaration.
    PERSONAL_DATA = {
        "fields": (
            "student_iin",
            "student_full_name",
            "guardian_iin",
            "guardian_full_name",
            "student_iin_hmac",
            "guardian_iin_hmac",
            "guardian_phone",
            "guardian_email",
            "comment",
            "consent_reference",
        ),
        "kind": _("Данные семьи в заявке: ИИН и ФИО учащегося и родителя, телефон, e-mail"),
        "purpose": _("Оценка нуждаемости семьи и решение о помощи учащемуся"),
        "roles": ("pedagogue", "principal", "auditor"),
        "retention": ("RETENTION_APPROVED_DAYS", "RETENTION_CLOSED_DAYS"),
    }

    class Meta:
        app_label = "portal"
        ordering = ["-created_at"]
        verbose_name = _("заявка на помощь")
        verbose_name_plural = _("заявки на помощь")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "student_iin_hmac", "aid_kind", "academic_year"],
                condition=~Q(status="withdrawn"),
                name="aidrequest_one_open_per_student_kind_year",
            ),
            models.CheckConstraint(
                name="aidrequest_amount_range",
                condition=Q(amount_kzt__gte=1, amount_kzt__lte=MAX_AMOUNT_KZT),
            ),
            models.CheckConstraint(
                name="aidrequest_grade_range", condition=Q(grade__gte=0, grade__lte=11)
            ),
            models.CheckConstraint(
                name="aidrequest_student_not_guardian",
                condition=~Q(student_iin=models.F("guardian_iin")),
            ),
            models.CheckConstraint(
                name="aidrequest_comment_length",
                condition=LessThanOrEqual(Length("comment"), COMMENT_MAX_LENGTH),
            ),
            models.CheckConstraint(
                name="aidrequest_consent_dates",
                condition=Q(consent_valid_until__isnull=True)
                | Q(consent_given_on__isnull=True)
                | Q(consent_valid_until__gte=models.F("consent_given_on")),
            ),
        ]
        indexes = [models.Index(fields=["status", "status_changed_at"])]

    def __str__(self) -> str:
        return str(self.public_id)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.set_iin_digests()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            fields = set(update_fields)
            if "student_iin" in fields:
                fields.add("student_iin_hmac")
            if "guardian_iin" in fields:
                fields.add("guardian_iin_hmac")
            kwargs["update_fields"] = fields
        super().save(*args, **kwargs)

    def insert(self) -> None:
        """Save this new request by a fixed INSERT (``portal.dbrows.insert``): the submission
        path, where the ORM's compiling of the statement cost more than the row."""
        from portal.dbrows import insert

        self.set_iin_digests()
        insert(self)

    @property
    def letter_language(self) -> str:
        """The family's language, else the school's language of instruction (mixed → ru)."""
        if self.family_language:
            return self.family_language
        school_language = getattr(self.school, "language", "") if self.school_id else ""
        return FamilyLanguage.KK if school_language == FamilyLanguage.KK else FamilyLanguage.RU

    def clean(self) -> None:
        if not self.family_language and self.school_id:
            self.family_language = self.letter_language
        if (
            self.consent_given_on
            and self.consent_valid_until
            and self.consent_valid_until < self.consent_given_on
        ):
            raise ValidationError(
                {"consent_valid_until": _("Срок действия согласия раньше даты его получения.")}
            )

    def set_iin_digests(self) -> None:
        """The keyed hashes of the two ИИН, from the ИИН as they are now."""
        self.student_iin_hmac = iin_digest(self.student_iin or "")
        self.guardian_iin_hmac = iin_digest(self.guardian_iin or "")

    def clean_fields(self, exclude: Any = None) -> None:
        self.set_iin_digests()  # before the unique key is validated
        super().clean_fields(exclude=exclude)

    def consent_problem(self, on: dt.date | None = None) -> Reason | None:
        """None when the consent is recorded and valid on `on`, else the reason."""
        on = on or timezone.localdate()
        if not (self.consent_method and self.consent_given_on and self.consent_valid_until):
            return Reason(ReasonCode.NO_CONSENT)
        if self.consent_given_on > on:
            return Reason(ReasonCode.CONSENT_NOT_YET_VALID)
        if self.consent_valid_until < on:
            return Reason(ReasonCode.CONSENT_EXPIRED)
        return None

    @property
    def reason(self) -> Reason | None:
        if not self.status_reason_code:
            return None
        return Reason(self.status_reason_code, dict(self.status_reason_params or {}))

    @property
    def status_reason(self) -> str:
        """The reason in the active language ("" when there is none)."""
        return render(self.status_reason_code, self.status_reason_params)

    def status_reason_in(self, lang: str) -> str:
        return render(self.status_reason_code, self.status_reason_params, lang)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AidRequestScoring(models.Model):
    """One assessment per scoring attempt of a request (contest → a new attempt)."""

    request = models.ForeignKey(AidRequest, on_delete=models.PROTECT, related_name="scorings")
    attempt = models.PositiveIntegerField()
    assessment = models.OneToOneField(
        "scoring.Assessment", on_delete=models.PROTECT, related_name="aid_request_scoring"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "portal"
        ordering = ["-attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "attempt"], name="aidrequestscoring_one_per_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.attempt}"


class DecisionQuerySet(models.QuerySet):
    def not_void(self) -> DecisionQuerySet:
        """Without the decisions a principal refused to sign (void: the request was decided
        anew or waits for a new decision) and those an appeal superseded."""
        return self.exclude(signature=Decision.Signature.REFUSED).filter(superseded_at__isnull=True)

    def in_effect(self) -> DecisionQuerySet:
        """Decisions that take effect: no signature needed, or signed; not superseded."""
        return self.filter(
            signature__in=[Decision.Signature.NONE, Decision.Signature.SIGNED],
            superseded_at__isnull=True,
        )

    def awaiting_signature(self) -> DecisionQuerySet:
        return self.filter(signature=Decision.Signature.PENDING)


class Decision(models.Model):
    class Outcome(models.TextChoices):
        APPROVE = "approve", _("одобрить")
        REJECT = "reject", _("отказать")

    class Signature(models.TextChoices):
        """The second signature (a principal of the school, not the decider): an approval above
        ``KOMEK_SIGNATURE_ABOVE_KZT`` or a decision against the recommendation needs it."""

        NONE = "none", _("подпись директора не нужна")
        PENDING = "pending", _("ждёт подписи директора")
        SIGNED = "signed", _("подписано директором")
        REFUSED = "refused", _("директор отказал в подписи")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(AidRequest, on_delete=models.PROTECT, related_name="decisions")
    assessment = models.ForeignKey(
        "scoring.Assessment", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    outcome = models.CharField(_("решение"), max_length=16, choices=Outcome.choices)
    amount_kzt = models.PositiveIntegerField(
        _("сумма, ₸"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AMOUNT_KZT)],
    )
    # The request's amount when decided: the approved amount is at most this (constraint).
    requested_amount_kzt = models.PositiveIntegerField(_("запрошенная сумма, ₸"), null=True)
    recommendation = models.CharField(_("рекомендация"), max_length=32, blank=True)
    against_recommendation = models.BooleanField(default=False)
    reason = models.TextField(
        _("обоснование"),
        blank=True,
        max_length=REASON_MAX_LENGTH,
        validators=[MaxLengthValidator(REASON_MAX_LENGTH)],
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # An appeal's outcome (revised, or re-scored and decided again) supersedes a decision: it
    # stays on record, out of force (no payment, its letter superseded).
    superseded_at = models.DateTimeField(_("заменено"), null=True, blank=True)
    signature_required = models.BooleanField(_("нужна подпись директора"), default=False)
    signature = models.CharField(
        _("подпись директора"),
        max_length=8,
        choices=Signature.choices,
        default=Signature.NONE,
    )
    # The principal who signed or refused (never the decider: constraint) and when.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_reason = models.TextField(
        _("причина отказа в подписи"),
        blank=True,
        max_length=REASON_MAX_LENGTH,
        validators=[MaxLengthValidator(REASON_MAX_LENGTH)],
    )

    objects = DecisionQuerySet.as_manager()

    class Meta:
        app_label = "portal"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="decision_signature_state",
                condition=Q(
                    signature_required=False,
                    signature="none",
                    signed_by__isnull=True,
                    signed_at__isnull=True,
                )
                | Q(
                    signature_required=True,
                    signature="pending",
                    signed_by__isnull=True,
                    signed_at__isnull=True,
                )
                | Q(
                    signature_required=True,
                    signature__in=["signed", "refused"],
                    signed_by__isnull=False,
                    signed_at__isnull=False,
                ),
            ),
            models.CheckConstraint(
                name="decision_signer_not_decider",
                condition=Q(signed_by__isnull=True) | ~Q(signed_by=models.F("decided_by")),
                violation_error_message=_("Решение подписывает не тот, кто его принял."),
            ),
            models.CheckConstraint(
                name="decision_refusal_has_reason",
                condition=~Q(signature="refused") | ~Q(signature_reason=""),
            ),
            models.CheckConstraint(
                name="decision_amount_iff_approve",
                condition=Q(outcome="approve", amount_kzt__isnull=False)
                | Q(outcome="reject", amount_kzt__isnull=True),
            ),
            models.CheckConstraint(
                name="decision_reason_when_against",
                condition=Q(against_recommendation=False) | ~Q(reason=""),
            ),
            models.CheckConstraint(
                name="decision_amount_within_requested",
                condition=Q(amount_kzt__isnull=True)
                | Q(requested_amount_kzt__isnull=True)
                | Q(amount_kzt__lte=models.F("requested_amount_kzt")),
                violation_error_message=_("Одобренная сумма больше запрошенной."),
            ),
            # One decision in force per scoring: an appeal's revision supersedes it, and a
            # decision whose signature the principal refused is void; either makes room for a
            # new one on the same scoring.
            models.UniqueConstraint(
                fields=["request", "assessment"],
                condition=Q(superseded_at__isnull=True) & ~Q(signature="refused"),
                name="decision_one_per_assessment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.outcome}"

    @property
    def in_force(self) -> bool:
        return self.superseded_at is None

    @property
    def awaits_signature(self) -> bool:
        return self.signature == self.Signature.PENDING

    @property
    def is_void(self) -> bool:
        return self.signature == self.Signature.REFUSED

    @property
    def in_effect(self) -> bool:
        return self.superseded_at is None and self.signature in (
            self.Signature.NONE,
            self.Signature.SIGNED,
        )

    def clean(self) -> None:
        if (
            self.amount_kzt is not None
            and self.requested_amount_kzt is not None
            and self.amount_kzt > self.requested_amount_kzt
        ):
            raise ValidationError(
                {
                    "amount_kzt": _(
                        "Одобренная сумма не может быть больше запрошенной (%(max)s ₸)."
                    )
                    % {"max": self.requested_amount_kzt}
                }
            )
