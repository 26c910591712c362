"""A contact's quiet hours ("22:00-07:00" in the contact's time zone): when they are, and when they end. Pure."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

_SPAN = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
HINT = 'quiet hours are "HH:MM-HH:MM" in the contact\'s time zone, e.g. "22:00-07:00"'


def parse(text: str) -> tuple[time, time]:
    """The start and end of ``"22:00-07:00"``; ValueError (with :data:`HINT`) for anything else."""
    match = _SPAN.match(text)
    if match is None:
        raise ValueError(HINT)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise ValueError(f"{HINT}; start and end may not be the same time")
    return start, end


def normalised(text: str) -> str:
    """``" 7:00 - 9:30"`` as stored: ``"07:00-09:30"``."""
    start, end = parse(text)
    return f"{start:%H:%M}-{end:%H:%M}"


def quiet_until(span: str | None, zone: ZoneInfo, now: datetime) -> datetime | None:
    """When the quiet hours ``span`` that hold at ``now`` (in ``zone``) end, in UTC; None when it is not quiet now.

    A span may cross midnight (22:00-07:00). Its end is found on the local clock, so a daylight-saving
    change inside the span moves the end with the contact's clock, as a person's alarm clock would.
    """
    if not span:
        return None
    start, end = parse(span)
    local = now.astimezone(zone)
    at = local.time().replace(tzinfo=None)
    if start < end:
        quiet, end_day = start <= at < end, local.date()
    else:  # across midnight
        quiet = at >= start or at < end
        end_day = local.date() + timedelta(days=1) if at >= start else local.date()
    if not quiet:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(timezone.utc)
