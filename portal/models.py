"""The models of the ``portal`` app, defined in its feature packages.

Every model keeps the ``portal`` app label, so no table moved when the features got their own
packages: ``portal.requests`` (aid requests, scorings, decisions), ``portal.audit`` (the audit
log), ``portal.rules`` (background runs: impact previews and re-score batches), ``portal.stats`` (the statistics rollup).
"""

from portal.appeals.models import Appeal, AppealAttachment
from portal.audit.models import AuditEvent
from portal.budgets.models import Budget
from portal.letters.models import Letter
from portal.notices.models import Notice
from portal.payments.models import Payment
from portal.privacy.models import RetentionErasure, RetentionHold
from portal.requests.models import AidRequest, AidRequestScoring, Decision
from portal.rules.models import BackgroundRun, ImpactPreview, RescoreBatch
from portal.stats.models import StatsBucket, StatsDistrictBucket

__all__ = [
    "AidRequest",
    "Appeal",
    "AppealAttachment",
    "AidRequestScoring",
    "AuditEvent",
    "Budget",
    "BackgroundRun",
    "Decision",
    "ImpactPreview",
    "Letter",
    "Notice",
    "Payment",
    "RescoreBatch",
    "RetentionErasure",
    "RetentionHold",
    "StatsBucket",
    "StatsDistrictBucket",
]
