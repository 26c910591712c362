"""The stored time format: UTC ISO 8601 with milliseconds and a Z, read back as the same instant (to the ms)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

from gateway.clock import isoformat, parse_isoformat

MOMENTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                       timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5)),
                                                  timezone(timedelta(hours=5, minutes=45))]))


@given(MOMENTS)
def test_isoformat_is_datetimes_own_utc_form_to_the_millisecond(moment):
    expected = moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert isoformat(moment) == expected
    assert parse_isoformat(isoformat(moment)) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_the_seeds_example():
    assert isoformat(datetime(2025, 1, 15, 10, 30, tzinfo=timezone.utc)) == "2025-01-15T10:30:00.000Z"
