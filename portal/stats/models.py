"""The statistics rollup: one row per school × month × academic year × aid kind × ground ×
category × status × decision outcome, with counts, amounts and a histogram of the time from
submission to the first score. Kept in step with every state change in the same transaction
(`portal.stats.services.stats_apply`), rebuilt from scratch by ``manage.py rebuild_stats``.

No family data lives here: only counts and sums.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# A CHECK (requests >= 0) is not possible: PostgreSQL checks the proposed row of
# INSERT … ON CONFLICT (a decrement: requests = -1) before it detects the conflict.

# Upper bounds (seconds) of the submission → score histogram buckets; the last bucket is open.
DURATION_BOUNDS: tuple[int, ...] = (
    1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10800, 21600, 43200, 86400, 172800, 604800,
)  # fmt: skip
HIST_FIELDS: tuple[str, ...] = tuple(f"d{i:02d}" for i in range(len(DURATION_BOUNDS) + 1))
ALL = "*"  # "every aid kind" / "every ground" in the district rollup
DISTRICT_KEY_FIELDS: tuple[str, ...] = (
    "district_id",
    "month",
    "academic_year",
    "aid_kind",
    "ground",
    "category",
    "status",
    "outcome",
)
KEY_FIELDS: tuple[str, ...] = (
    "school_id",
    "month",
    "academic_year",
    "aid_kind",
    "ground",
    "category",
    "status",
    "outcome",
)
MEASURE_FIELDS: tuple[str, ...] = (
    "requests",
    "amount_requested",
    "amount_approved",
    "against",
    *HIST_FIELDS,
)


class StatsBucket(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    # Denormalised from the school (a school does not change district): region and district
    # dashboards filter on them without a join.
    district = models.ForeignKey("schools.District", on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey("schools.Region", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("месяц подачи"))
    academic_year = models.CharField(_("учебный год"), max_length=9)
    aid_kind = models.CharField(_("вид помощи"), max_length=32)
    ground = models.CharField(_("основание"), max_length=32)
    category = models.PositiveSmallIntegerField(_("категория"))  # 0 = not scored yet
    status = models.CharField(_("статус"), max_length=16)
    outcome = models.CharField(_("решение"), max_length=16, blank=True)  # "" unless decided
    requests = models.IntegerField(default=0)
    amount_requested = models.BigIntegerField(default=0)
    amount_approved = models.BigIntegerField(default=0)
    against = models.IntegerField(default=0)  # decisions against the recommendation
    locals().update({name: models.IntegerField(default=0) for name in HIST_FIELDS})

    class Meta:
        app_label = "portal"
        verbose_name = _("строка статистики")
        verbose_name_plural = _("статистика")
        constraints = [
            models.UniqueConstraint(fields=list(KEY_FIELDS), name="statsbucket_key"),
        ]
        indexes = [
            models.Index(fields=["region", "academic_year", "month"], name="statsbucket_region"),
            models.Index(
                fields=["district", "academic_year", "month"], name="statsbucket_district"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.month:%Y-%m} {self.category} {self.status}"


class StatsDistrictBucket(models.Model):
    """The same figures one level up, for region and national dashboards: district × month ×
    academic year × category × status × outcome, each stored three times: for every aid kind
    and ground together (``*``/``*``), per aid kind (ground ``*``) and per ground (aid kind
    ``*``). Region pages read a few thousand of these rows instead of one per school and
    combination. A filter on both kind and ground reads the school-level rollup instead.
    """

    district = models.ForeignKey("schools.District", on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey("schools.Region", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("месяц подачи"))
    academic_year = models.CharField(_("учебный год"), max_length=9)
    aid_kind = models.CharField(_("вид помощи"), max_length=32)
    ground = models.CharField(_("основание"), max_length=32)
    category = models.PositiveSmallIntegerField(_("категория"))
    status = models.CharField(_("статус"), max_length=16)
    outcome = models.CharField(_("решение"), max_length=16, blank=True)
    requests = models.IntegerField(default=0)
    amount_requested = models.BigIntegerField(default=0)
    amount_approved = models.BigIntegerField(default=0)
    against = models.IntegerField(default=0)
    locals().update({name: models.IntegerField(default=0) for name in HIST_FIELDS})

    class Meta:
        app_label = "portal"
        verbose_name = _("строка статистики района")
        verbose_name_plural = _("статистика районов")
        constraints = [
            models.UniqueConstraint(
                fields=[f.removesuffix("_id") for f in DISTRICT_KEY_FIELDS],
                name="statsdistrictbucket_key",
            ),
        ]
        indexes = [
            models.Index(
                fields=["region", "aid_kind", "ground", "academic_year", "month"],
                name="statsdistrict_region",
            ),
            models.Index(
                fields=["aid_kind", "ground", "academic_year", "month"],
                name="statsdistrict_national",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.month:%Y-%m} {self.category} {self.status}"
