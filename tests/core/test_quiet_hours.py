"""Quiet hours: when they hold and when they end, on the contact's own clock."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from gateway.core.quiet_hours import normalised, quiet_until

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("now, until", [
    (utc(2026, 1, 15, 21, 30), utc(2026, 1, 16, 6, 0)),  # 22:30 Berlin: until 07:00 tomorrow
    (utc(2026, 1, 16, 1, 0), utc(2026, 1, 16, 6, 0)),  # 02:00 Berlin: until 07:00 today
    (utc(2026, 1, 16, 6, 0), None),  # 07:00 Berlin: over
    (utc(2026, 1, 16, 12, 0), None),  # 13:00 Berlin
    (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 5, 0)),  # the night clocks go forward: 07:00 CEST
])
def test_a_span_across_midnight(now, until):
    assert quiet_until("22:00-07:00", BERLIN, now) == until


def test_a_span_within_a_day_and_no_span():
    assert quiet_until("13:00-14:30", BERLIN, utc(2026, 1, 16, 12, 15)) == utc(2026, 1, 16, 13, 30)
    assert quiet_until("13:00-14:30", BERLIN, utc(2026, 1, 16, 13, 30)) is None
    assert quiet_until(None, BERLIN, utc(2026, 1, 16, 1, 0)) is None


@pytest.mark.parametrize("text", ["22-07", "24:00-07:00", "22:00-22:00", "22:00 to 07:00", ""])
def test_bad_spans_are_refused(text):
    with pytest.raises(ValueError):
        normalised(text)
    assert normalised(" 7:05 - 9:30 ") == "07:05-09:30"
