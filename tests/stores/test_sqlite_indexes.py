"""SQLite's partial indexes (migration 0018): the lookups that read them still do.

A row without the key is left out of ``event_log_site`` and ``outbound_carrier_message`` (a page less to write
per text for each); SQLite uses such an index only for a query whose terms imply the key is not NULL, so a lookup
rewritten in another form (``IS :x``, an ``OR``) would quietly fall back to a scan of the whole table.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from gateway.stores import open_store
from gateway.stores.sqlite.connector import _BOUND

LOOKUPS = {
    "outbound_carrier_message": ["outbound_by_carrier_id", "advance_outbound_status"],
    "event_log_site": ["recent_site_events", "verification_log", "alarm_log", "dispatch_log"],
}


@pytest.fixture
async def path(tmp_path, clock):
    store = open_store(f"sqlite:///{tmp_path}/gateway.sqlite3", clock=clock)
    await store.open()
    await store.close()
    return tmp_path / "gateway.sqlite3"


@pytest.mark.parametrize("index, query", [(i, q) for i, qs in LOOKUPS.items() for q in qs])
def test_each_lookup_reads_its_partial_index(path, index, query):
    sql, _ = _BOUND[query]
    params = ["x"] * max(int(n) for n in re.findall(r"\?(\d+)", sql))
    with sqlite3.connect(path) as conn:
        assert "WHERE" in conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
        plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert f"INDEX {index}" in plan, plan
