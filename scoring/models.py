"""Rule sets (versioned ``rule-set/1`` documents) and assessments (frozen card + full trace).

Both are append-mostly records that decisions rest on:

* a :class:`RuleSet` is a draft until published; once published (or retired) its document,
  version and ``effective_from`` never change. ``save()``/``clean()`` refuse, and a PostgreSQL
  trigger (migration 0003) refuses the same UPDATE when it bypasses the model;
* an :class:`Assessment` is insert-only: re-scoring makes a new row linked through ``previous``.

Writes go through :mod:`scoring.services`; reads through :mod:`scoring.selectors`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scoring.card import canonical_json
from scoring.fields import BulkJSONField
from scoring.jsondoc import ExactJSONDecoder, ExactJSONEncoder
from scoring.ruleset import ruleset_problems


def document_sha256(document: Any) -> str:
    """Hex SHA-256 of the canonical JSON of a document."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


def _safe_sha256(document: Any) -> str:
    try:
        return document_sha256(document)
    except (TypeError, ValueError):  # not JSON-serialisable: reported by clean()
        return ""


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", _("черновик")
    PUBLISHED = "published", _("опубликован")
    RETIRED = "retired", _("выведен из действия")


#: Statuses whose document is frozen.
FROZEN_STATUSES = frozenset({RuleSetStatus.PUBLISHED, RuleSetStatus.RETIRED})
#: Allowed status changes (old → new); staying put is always allowed.
_TRANSITIONS = {
    RuleSetStatus.DRAFT: frozenset({RuleSetStatus.PUBLISHED}),
    RuleSetStatus.PUBLISHED: frozenset({RuleSetStatus.RETIRED}),
    RuleSetStatus.RETIRED: frozenset(),
}


class RuleSet(models.Model):
    """A versioned, validated ``rule-set/1`` document: every number of the methodology.

    ``version`` and ``effective_from`` repeat the document's own fields (kept equal by
    ``clean()``) so they can be queried. ``document_sha256`` is the SHA-256 of the canonical
    JSON of ``document``, recomputed on every save.
    """

    Status = RuleSetStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.CharField(_("версия"), max_length=32, unique=True)
    status = models.CharField(
        _("статус"), max_length=16, choices=RuleSetStatus.choices, default=RuleSetStatus.DRAFT
    )
    effective_from = models.DateField(_("действует с"))
    document = models.JSONField(_("документ (rule-set/1)"))
    document_sha256 = models.CharField(_("SHA-256 документа"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("создал"),
    )
    published_at = models.DateTimeField(_("опубликован"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("опубликовал"),
    )

    class Meta:
        ordering = ["-effective_from", "version"]
        verbose_name = _("набор правил")
        verbose_name_plural = _("наборы правил")
        constraints = [
            models.CheckConstraint(
                name="scoring_ruleset_status_valid",
                condition=Q(status__in=RuleSetStatus.values),
            ),
            models.CheckConstraint(
                name="scoring_ruleset_published_has_date",
                condition=Q(status=RuleSetStatus.DRAFT) | Q(published_at__isnull=False),
                violation_error_message=_("У опубликованного набора правил должна быть дата."),
            ),
            models.CheckConstraint(
                name="scoring_ruleset_sha256_hex",
                condition=Q(document_sha256__regex=r"^[0-9a-f]{64}$"),
            ),
            models.UniqueConstraint(
                fields=["effective_from"],
                condition=Q(status=RuleSetStatus.PUBLISHED),
                name="scoring_ruleset_one_published_per_date",
                violation_error_message=_(
                    "Уже есть опубликованный набор правил, действующий с этой даты."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        errors = self._immutability_errors()
        if errors:
            raise ValidationError(errors)
        self.document_sha256 = document_sha256(self.document)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "document" in update_fields:
            kwargs["update_fields"] = {*update_fields, "document_sha256"}
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        stored = self._stored()
        if stored is not None and stored["status"] in FROZEN_STATUSES:
            raise ValidationError(_("Опубликованный набор правил нельзя удалить."))
        return super().delete(*args, **kwargs)

    @property
    def is_frozen(self) -> bool:
        """Published or retired: the document can no longer change."""
        return self.status in FROZEN_STATUSES

    # ---- validation -------------------------------------------------------------------------
    def _stored(self) -> dict[str, Any] | None:
        if self._state.adding or self.pk is None:
            return None
        return (
            type(self)
            .objects.filter(pk=self.pk)
            .values("status", "version", "effective_from", "document_sha256")
            .first()
        )

    def _immutability_errors(self) -> dict[str, list[Any]]:
        stored = self._stored()
        if stored is None:
            return {}
        errors: dict[str, list[Any]] = {}
        old_status = stored["status"]
        if self.status != old_status and self.status not in _TRANSITIONS.get(
            old_status, frozenset()
        ):
            errors["status"] = [
                _("Статус «%(old)s» нельзя сменить на «%(new)s».")
                % {
                    "old": RuleSetStatus(old_status).label,
                    "new": RuleSetStatus(self.status).label
                    if self.status in RuleSetStatus.values
                    else self.status,
                }
            ]
        if old_status in FROZEN_STATUSES:
            frozen = _(
                "Опубликованный набор правил неизменяем: выпустите новую версию вместо правки."
            )
            if _safe_sha256(self.document) != stored["document_sha256"]:
                errors["document"] = [frozen]
            if self.version != stored["version"]:
                errors["version"] = [frozen]
            if self.effective_from != stored["effective_from"]:
                errors["effective_from"] = [frozen]
        return errors

    def clean(self) -> None:
        errors = self._immutability_errors()
        problems = ruleset_problems(self.document)
        if problems:
            whole = _("документ")
            errors.setdefault("document", []).extend(
                f"{p.path or whole}: {p.reason}" for p in problems
            )
        else:
            if self.document["version"] != self.version:
                errors.setdefault("version", []).append(
                    _("Версия должна совпадать с полем version документа.")
                )
            effective = self.effective_from
            if isinstance(effective, dt.date) and (
                self.document["effective_from"] != effective.isoformat()
            ):
                errors.setdefault("effective_from", []).append(
                    _("Дата должна совпадать с полем effective_from документа.")
                )
        if errors:
            raise ValidationError(errors)

    def _sync_sha256(self) -> None:
        self.document_sha256 = _safe_sha256(self.document)

    def full_clean(self, *args: Any, **kwargs: Any) -> None:
        self._sync_sha256()
        super().full_clean(*args, **kwargs)


class Assessment(models.Model):
    """One scoring of one frozen family card with one rule set. Insert-only.

    ``card`` is the card document exactly as scored (its canonical JSON hashes to
    ``card_sha256``); ``trace`` is :meth:`scoring.engine.Assessment.to_dict`, from which the
    engine's value object is rebuilt with ``from_dict``. Re-scoring creates a new row whose
    ``previous`` is the row it supersedes.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    card = BulkJSONField(
        _("карта семьи (family-card/1)"), encoder=ExactJSONEncoder, decoder=ExactJSONDecoder
    )
    card_sha256 = models.CharField(_("SHA-256 карты"), max_length=64)
    ruleset = models.ForeignKey(
        RuleSet,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("набор правил"),
    )
    ruleset_version = models.CharField(_("версия набора правил"), max_length=32)
    category = models.PositiveSmallIntegerField(_("категория"))
    high_welfare = models.BooleanField(_("высокий уровень благосостояния"))
    markers = BulkJSONField(_("сработавшие маркеры"), default=list, blank=True)
    trace = BulkJSONField(_("трассировка расчёта"))
    created_at = models.DateTimeField(_("создана"), auto_now_add=True, db_index=True)
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successors",
        verbose_name=_("предыдущая оценка"),
    )

    # The register of processing (portal.privacy.register) reads this declaration.
    PERSONAL_DATA = {
        "fields": ("card",),
        "kind": _("Карта семьи на момент оценки: состав семьи, доходы, имущество"),
        "purpose": _("Расчёт категории нуждаемости и возможность проверить расчёт"),
        "roles": ("pedagogue", "principal", "auditor", "rules_admin"),
        "retention": ("RETENTION_APPROVED_DAYS", "RETENTION_CLOSED_DAYS"),
    }

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("оценка")
        verbose_name_plural = _("оценки")
        constraints = [
            models.CheckConstraint(
                name="scoring_assessment_category_1_6",
                condition=Q(category__gte=1, category__lte=6),
                violation_error_message=_("Категория должна быть от 1 до 6."),
            ),
            models.CheckConstraint(
                name="scoring_assessment_high_welfare_is_6",
                condition=Q(high_welfare=True, category=6) | Q(high_welfare=False, category__lt=6),
                violation_error_message=_(
                    "Категория 6 ставится тогда и только тогда, когда сработали маркеры."
                ),
            ),
            models.CheckConstraint(
                name="scoring_assessment_sha256_hex",
                condition=Q(card_sha256__regex=r"^[0-9a-f]{64}$"),
            ),
            models.CheckConstraint(
                name="scoring_assessment_not_own_previous",
                condition=Q(previous__isnull=True) | ~Q(previous=models.F("id")),
            ),
        ]

    def __str__(self) -> str:  # never family data
        return f"{self.public_id} ({self.category})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValidationError(
                _("Оценку нельзя изменить: выполните повторную оценку, она создаст новую запись.")
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValidationError(_("Оценки не удаляются."))

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.ruleset_id is not None and self.ruleset_version != self.ruleset.version:
            errors["ruleset_version"] = [_("Версия должна совпадать с версией набора правил.")]
        if _safe_sha256(self.card) != self.card_sha256:
            errors["card_sha256"] = [_("SHA-256 не соответствует сохранённой карте.")]
        if not isinstance(self.markers, list) or not all(isinstance(m, str) for m in self.markers):
            errors["markers"] = [_("Ожидается список кодов критериев.")]
        if errors:
            raise ValidationError(errors)


# --------------------------------------------------------------------------- rule governance


class GoldenCase(models.Model):
    """A test card with the category the methodology must give it (global, for every draft).

    ``card`` is a valid ``family-card/1`` document (checked by ``clean()``); the expected
    high-welfare flag is optional (None: not checked). Inactive cases are kept but not run.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("название"), max_length=200)
    card = models.JSONField(
        _("карта семьи (family-card/1)"), encoder=ExactJSONEncoder, decoder=ExactJSONDecoder
    )
    card_sha256 = models.CharField(_("SHA-256 карты"), max_length=64, editable=False)
    expected_category = models.PositiveSmallIntegerField(_("ожидаемая категория"))
    expected_high_welfare = models.BooleanField(
        _("ожидаемый признак высокого благосостояния"), null=True, blank=True
    )
    active = models.BooleanField(_("активен"), default=True)
    source = models.CharField(_("источник"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("создал"),
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("эталонный случай")
        verbose_name_plural = _("эталонные случаи")
        constraints = [
            models.CheckConstraint(
                name="scoring_goldencase_category_1_6",
                condition=Q(expected_category__gte=1, expected_category__lte=6),
                violation_error_message=_("Категория должна быть от 1 до 6."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.card_sha256 = _safe_sha256(self.card)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from scoring.card import card_problems

        errors: dict[str, list[Any]] = {}
        problems = card_problems(self.card)
        if problems:
            whole = _("документ")
            errors["card"] = [f"{p.path or whole}: {p.reason}" for p in problems[:10]]
        if self.expected_category is not None and not 1 <= self.expected_category <= 6:
            errors["expected_category"] = [_("Категория должна быть от 1 до 6.")]
        if (
            self.expected_high_welfare is not None
            and self.expected_category is not None
            and self.expected_high_welfare != (self.expected_category == 6)
        ):
            errors["expected_high_welfare"] = [
                _(
                    "Признак высокого благосостояния ставится тогда и только тогда, когда категория 6."
                )
            ]
        if errors:
            raise ValidationError(errors)


class RuleSetApproval(models.Model):
    """A second rules administrator's approval of one exact draft document.

    Valid only while the draft's ``document_sha256`` equals the approved one.
    """

    ruleset = models.ForeignKey(
        RuleSet, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("набор правил")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("одобрил"),
    )
    document_sha256 = models.CharField(_("SHA-256 одобренного документа"), max_length=64)
    created_at = models.DateTimeField(_("одобрено"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("одобрение набора правил")
        verbose_name_plural = _("одобрения наборов правил")
        constraints = [
            models.UniqueConstraint(
                fields=["ruleset", "approved_by", "document_sha256"],
                name="scoring_rulesetapproval_once_per_document",
                violation_error_message=_("Вы уже одобрили эту редакцию черновика."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ruleset_id}:{self.document_sha256[:12]}"

    @property
    def is_current(self) -> bool:
        return self.document_sha256 == self.ruleset.document_sha256


class RuleSetEventAction(models.TextChoices):
    CREATED = "created", _("черновик создан")
    SAVED = "saved", _("черновик изменён")
    APPROVED = "approved", _("одобрен")
    PREVIEWED = "previewed", _("запущен предпросмотр влияния")
    PUBLISHED = "published", _("опубликован")
    RETIRED = "retired", _("выведен из действия")


class RuleSetEvent(models.Model):
    """History of a rule set: who drafted, changed, approved, published it, and when."""

    Action = RuleSetEventAction

    ruleset = models.ForeignKey(
        RuleSet, on_delete=models.CASCADE, related_name="events", verbose_name=_("набор правил")
    )
    action = models.CharField(_("действие"), max_length=16, choices=RuleSetEventAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("кто"),
    )
    document_sha256 = models.CharField(_("SHA-256 документа"), max_length=64, blank=True)
    detail = models.JSONField(_("подробности"), default=dict, blank=True)
    created_at = models.DateTimeField(_("когда"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("событие набора правил")
        verbose_name_plural = _("история наборов правил")

    def __str__(self) -> str:
        return f"{self.ruleset_id} {self.action}"
