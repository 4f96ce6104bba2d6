"""The appeal's dates and conditions: the period to file, the reviewer's answer deadline in
working days, and whether a request's decision can be appealed now (the lifecycle's guard)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

# Kazakhstan's public holidays on fixed dates (Labour Code, art. 84; the Law "On holidays"):
# not working days for the answer deadline. Holidays on moving dates (Kurban ait) and the
# government's yearly transfers of days off are not modelled; a weekend is never a working day.
FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {
        (1, 1),
        (1, 2),
        (1, 7),
        (3, 8),
        (3, 21),
        (3, 22),
        (3, 23),
        (5, 1),
        (5, 7),
        (5, 9),
        (7, 6),
        (8, 30),
        (10, 25),
        (12, 16),
    }
)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    day = start
    left = days
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def answer_due(filed_on: dt.date) -> dt.date:
    """The reviewer's deadline for an appeal filed on ``filed_on``."""
    return add_working_days(filed_on, int(settings.APPEAL_ANSWER_WORKING_DAYS))


def appeal_until(decision: Any) -> dt.date:
    """The last day to appeal ``decision``: the date printed on its letter, or (no letter yet)
    the decision's local date plus the appeal period."""
    letter = getattr(decision, "letter", None) if _has_letter(decision) else None
    if letter is not None:
        return letter.appeal_until
    decided_on = timezone.localdate(decision.created_at)
    return decided_on + dt.timedelta(days=int(settings.LETTER_APPEAL_DAYS))


def _has_letter(decision: Any) -> bool:
    from portal.letters.models import Letter

    try:
        decision.letter  # noqa: B018 - the reverse one-to-one, cached when loaded
    except Letter.DoesNotExist:
        return False
    return True


def decision_in_force(req: Any) -> Any:
    """The request's decision in force (the latest in effect: not superseded, not waiting for
    or refused the principal's signature), or None."""
    from portal.requests.models import Decision

    return Decision.objects.filter(request=req).in_effect().order_by("-created_at", "-id").first()


def why_not_appealable(req: Any, today: dt.date | None = None) -> str | None:
    """None when the request's decision can be appealed now, else why not (in words)."""
    from portal.appeals.models import Appeal
    from portal.requests.models import Decision

    if Decision.objects.filter(request=req).awaiting_signature().exists():
        return _("Решение ждёт подписи директора: обжаловать его можно после подписи.")
    decision = decision_in_force(req)
    if decision is None:
        return _("Обжаловать можно только принятое решение.")
    if Appeal.objects.filter(request=req, status=Appeal.Status.OPEN).exists():
        return _("Жалоба по этой заявке уже на рассмотрении.")
    if Appeal.objects.filter(decision=decision).exists():
        return _("Это решение уже обжаловано; по нему вынесен итог жалобы.")
    if Appeal.objects.filter(new_decision=decision).exists():
        return _(
            "Это решение принято по жалобе отделом образования района; его можно оспорить "
            "только в суде."
        )
    until = appeal_until(decision)
    if (today or timezone.localdate()) > until:
        return _("Срок обжалования истёк %(date)s.") % {"date": until.strftime("%d.%m.%Y")}
    return None
