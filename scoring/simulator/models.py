"""Cards loaded into the simulator, one row per member ИИН, and persons it must not know."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from schools.identifiers import is_valid_iin
from scoring.fields import BulkJSONField
from scoring.jsondoc import ExactJSONDecoder, ExactJSONEncoder


def validate_iin(value: str) -> None:
    if not is_valid_iin(value):
        raise ValidationError(_("Некорректный ИИН."), code="invalid_iin")


class SimulatedCard(models.Model):
    """The family card served for ``iin`` (every member of a loaded card gets a row)."""

    iin = models.CharField(_("ИИН"), max_length=12, unique=True, validators=[validate_iin])
    family_id = models.CharField(_("идентификатор семьи"), max_length=64, db_index=True)
    card = BulkJSONField(
        _("карта семьи (family-card/1)"), encoder=ExactJSONEncoder, decoder=ExactJSONDecoder
    )
    card_sha256 = models.CharField(_("SHA-256 карты"), max_length=64)
    loaded_at = models.DateTimeField(_("загружена"), default=timezone.now)

    class Meta:
        verbose_name = _("карта семьи симулятора")
        verbose_name_plural = _("карты семьи симулятора")
        constraints = [
            models.CheckConstraint(
                condition=Q(iin__regex=r"^[0-9]{12}$"), name="familycard_sim_card_iin_12_digits"
            ),
        ]

    def __str__(self) -> str:  # never the ИИН
        return f"{self.family_id} ({self.card_sha256[:10]})"


class SimulatedUnknownPerson(models.Model):
    """An ИИН the simulator answers 404 for, whatever else it knows (``--unknown``)."""

    iin = models.CharField(_("ИИН"), max_length=12, unique=True, validators=[validate_iin])
    marked_at = models.DateTimeField(_("отмечен"), default=timezone.now)

    class Meta:
        verbose_name = _("неизвестный симулятору человек")
        verbose_name_plural = _("неизвестные симулятору люди")
        constraints = [
            models.CheckConstraint(
                condition=Q(iin__regex=r"^[0-9]{12}$"),
                name="familycard_sim_unknown_iin_12_digits",
            ),
        ]

    def __str__(self) -> str:
        return f"unknown person #{self.pk}"
