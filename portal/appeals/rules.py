"""The appeal's dates and conditions: the period to file, the reviewer's answer deadline in
working days, and whether a request's decision can be appealed now (the lifecycle's guard)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

# Kazakhstan's public holidays on fixed dates (Labour Code, art. 84; the Law "On holidays"):
# not working days for the answer deadline. A national or state holiday that falls on a
# weekend moves the day off to the next working day (art. 84 § 2); the religious ones (Orthodox
# Christmas, Kurban ait) do not. Kurban ait's first day moves with the lunar calendar
# (``MOVING_HOLIDAYS``, as the government announces it); the government's yearly transfers of
# days off, and any later announcement, come from the settings (``NON_WORKING_DAYS``,
# ``WORKING_DAYS``: a Saturday worked instead).
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
#: Holidays whose weekend does not move to a working day (religious holidays).
RELIGIOUS_HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(1, 7)})
#: Kurban ait's first day (a religious holiday) by year.
MOVING_HOLIDAYS: frozenset[dt.date] = frozenset({dt.date(2025, 6, 6), dt.date(2026, 5, 27)})


@functools.lru_cache(maxsize=64)
def _holidays_and_moved(year: int) -> frozenset[dt.date]:
    """The holidays of ``year`` and the days off they move to from a weekend (Dec 16 on a
    weekend may move into the next year)."""
    holidays = {dt.date(year, m, d) for m, d in FIXED_HOLIDAYS}
    holidays |= {d for d in MOVING_HOLIDAYS if d.year == year}
    off = set(holidays)
    for day in sorted(holidays):
        if (
            day.weekday() < 5
            or (day.month, day.day) in RELIGIOUS_HOLIDAYS
            or day in MOVING_HOLIDAYS
        ):
            continue
        moved = day + dt.timedelta(days=1)
        while moved.weekday() >= 5 or moved in off:
            moved += dt.timedelta(days=1)
        off.add(moved)
    return frozenset(off)


def _days_off(year: int) -> frozenset[dt.date]:
    """Every holiday and moved day off that falls in ``year``."""
    late = _holidays_and_moved(year - 1) if year > dt.MINYEAR else frozenset()
    return _holidays_and_moved(year) | {d for d in late if d.year == year}


def is_working_day(day: dt.date) -> bool:
    """A weekday that is neither a holiday, nor a day off moved from a holiday's weekend, nor
    a day off of ``NON_WORKING_DAYS``; or a day of ``WORKING_DAYS`` (a Saturday worked)."""
    if day in settings.WORKING_DAYS:
        return True
    if day in settings.NON_WORKING_DAYS:
        return False
    return day.weekday() < 5 and day not in _days_off(day.year)


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
