"""tests/storage.py reads what either engine stored, by database URL (the other tests rely on it)."""

from __future__ import annotations

from gateway.model import Decision, LogEntry
from tests import storage


async def test_storage_reads_rows_counts_and_every_byte_of_either_engine(store, db_url, site, clock):
    await store.commit(Decision(log=[LogEntry(code="BA", at=clock.now(), site_id=site.id, comment="zone 3 pin-shaped",
                                              details={"zone": "3"}),
                                     LogEntry(code="SMSSENT", at=clock.now(), site_id=site.id)]))
    assert storage.count(db_url, "event_log") == 2
    assert [r["code"] for r in storage.rows(db_url, "event_log")] == ["BA", "SMSSENT"]
    assert "zone 3 pin-shaped" in storage.dump_text(db_url)
    assert b"zone 3 pin-shaped" in storage.stored_bytes(db_url)
    assert b"not-stored-anywhere" not in storage.stored_bytes(db_url)
