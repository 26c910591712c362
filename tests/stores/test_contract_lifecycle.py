"""The store's life on both engines: schema and migrations, the daemon lock, leases at start, and the
rule that every store method is covered by this suite."""

from __future__ import annotations

import ast
import asyncio
import inspect
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.errors import ConfigurationError
from gateway.model import Decision
from gateway.stores import Store, open_store
from gateway.stores.connector import FAST_PATHS, SQL_DIR, load_queries
from gateway.stores.migrations import MIGRATIONS, TABLES
from tests.stores.conftest import open_verification

HERE = Path(__file__).parent


def test_every_engine_has_the_sql_of_each_migration_and_the_same_queries():
    for engine in ("sqlite", "postgres"):
        assert sorted(p.stem for p in (SQL_DIR / engine / "migrations").glob("*.sql")) == list(MIGRATIONS), engine
    sqlite, postgres = load_queries("sqlite", "sqlite3").keys(), load_queries("postgres", "asyncpg").keys()
    assert sqlite - FAST_PATHS == postgres - FAST_PATHS  # what only one engine offers stands for a generic body
    assert postgres - sqlite == FAST_PATHS and not sqlite - postgres


async def test_open_migrates_once_and_the_store_answers(store):
    assert await store.migrate() == []
    assert await store.ping() is True
    assert (await store.db.server_version()).split()[0] == {"sqlite": "SQLite", "postgres": "PostgreSQL"}[store.engine]


@pytest.mark.postgres
async def test_both_engines_have_the_same_tables_and_columns(tmp_path, pg_url, clock):
    tables = {}
    for url in (f"sqlite:///{tmp_path}/gateway.sqlite3", pg_url):
        store = open_store(url, clock=clock)
        await store.open()
        try:
            assert sorted(await store.db.tables()) == sorted(["schema_migrations", *TABLES])
            tables[store.engine] = {t: sorted(await store.db.columns(t)) for t in ["schema_migrations", *TABLES]}
        finally:
            await store.close()
    assert all(tables["sqlite"].values())
    assert tables["sqlite"] == tables["postgres"]


async def test_two_migrations_at_once_apply_each_migration_once(db_url, clock):
    first, second = open_store(db_url, clock=clock), open_store(db_url, clock=clock)
    await first.db.open()
    await second.db.open()
    try:
        applied = await asyncio.gather(first.migrate(), second.migrate())
        assert sorted(applied) == [[], list(MIGRATIONS)]
        assert await first.migrate() == []
    finally:
        await first.close()
        await second.close()


async def test_sqlite_allows_one_daemon_per_file_postgres_any_number(db_url, clock):
    first, second = open_store(db_url, clock=clock), open_store(db_url, clock=clock)
    with first.daemon_lock():
        if first.engine == "sqlite":
            with pytest.raises(ConfigurationError, match="another gateway"):
                with second.daemon_lock():
                    pass
        else:
            with second.daemon_lock():
                pass
    with second.daemon_lock():  # released with its holder
        pass


async def test_leases_are_taken_back_at_start_only_where_one_daemon_serves(db_url, clock, store, site, contact):
    """A second daemon's start takes back a live lease only on SQLite, where the lock proves the
    first is gone; on PostgreSQL it waits for the lease to run out."""
    await open_verification(store, site, [contact], clock)
    [claimed] = await store.claim_outbound(clock.now(), clock.now() + timedelta(seconds=60), 10)
    other = open_store(db_url, clock=clock)
    await other.open()
    try:
        released = await other.release_leases(clock.now())
        again = await other.claim_outbound(clock.now(), clock.now() + timedelta(seconds=60), 10)
        if store.engine == "sqlite":
            assert released == 1 and [m.id for m in again] == [claimed.id]
        else:
            assert released == 0 and again == []
            clock.advance(61)
            assert [m.id for m in await other.claim_outbound(clock.now(), clock.now(), 10)] == [claimed.id]
    finally:
        await other.close()


def test_the_printed_url_never_shows_the_password():
    store = open_store("postgresql://gateway:s3cret-pw@db.example:5432/gateway?sslmode=require")
    assert store.description == "postgresql://gateway:***@db.example:5432/gateway?sslmode=require"
    assert open_store("sqlite:///var/x.sqlite3").description == "sqlite:///var/x.sqlite3"


def test_a_scheme_without_an_engine_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="no store engine for 'mysql'"):
        open_store("mysql://db.example/gateway")


def test_every_store_method_is_used_by_the_contract_suite():
    """Each public method of the store appears as ``.name(`` in some test module of this folder."""
    methods = {name for name, member in inspect.getmembers(Store, inspect.isfunction) if not name.startswith("_")}
    called = set()
    for path in HERE.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                called.add(node.func.attr)
    assert sorted(methods - called) == []


async def test_a_commit_that_is_refused_writes_nothing(store, site, contact, clock):
    from gateway.model import LogEntry, VerificationResponse
    from gateway.errors import StaleDecision

    stale = Decision(log=[LogEntry(code="SMSYES", at=clock.now(), site_id=site.id)], responses=[
        VerificationResponse(verification_id="no_such", contact_id=contact.id, response="confirmed", at=clock.now())])
    with pytest.raises(StaleDecision):
        await store.commit(stale)
    assert await store.event_log(site_id=site.id, after=0, limit=10) == []



def test_the_postgresql_password_comes_from_password_file_else_pgpassword(tmp_path, monkeypatch):
    from gateway.config import load_config
    from gateway.stores import configured_store

    (tmp_path / "pw.txt").write_text("from-file\n")
    url = "postgresql://gateway@db.example/gateway"
    with_file = tmp_path / "with.yaml"
    with_file.write_text(f'database: {{url: "{url}", password_file: pw.txt, pool_size: 3}}\n')
    without = tmp_path / "without.yaml"
    without.write_text(f'database: {{url: "{url}"}}\n')
    monkeypatch.setenv("PGPASSWORD", "from-env")
    store = configured_store(load_config(with_file, env={}))
    assert (store.db._password, store.db.pool_size) == ("from-file", 3)
    assert configured_store(load_config(without, env={})).db._password == "from-env"


async def test_probe_asks_the_server_what_it_is_without_migrating(db_url, clock):
    store = open_store(db_url, clock=clock)
    assert (await store.probe()).split()[0] in ("SQLite", "PostgreSQL")
    await store.db.open()
    try:
        assert await store.db.tables() == []  # nothing migrated
    finally:
        await store.db.close()


async def test_a_committed_notify_is_heard_by_another_process_and_a_rolled_back_one_never(db_url, store, clock):
    from gateway.stores.connector import Op

    other = open_store(db_url, clock=clock)
    await other.open()
    heard: list[str] = []
    arrived = asyncio.Event()
    stop = await other.db.listen("outbox", lambda payload: (heard.append(payload), arrived.set()))
    try:
        def rolled_back():
            yield Op("notify", {"channel": "outbox", "payload": "lost"})
            raise RuntimeError("rolled back")

        def committed():
            yield Op("notify", {"channel": "outbox", "payload": "42"})

        with pytest.raises(RuntimeError):
            await store.db.transaction(rolled_back)
        await store.db.transaction(committed)
        if store.engine == "postgres":
            await asyncio.wait_for(arrived.wait(), 5)
            assert heard == ["42"]
        else:  # one daemon per file: it wakes its own loops, nobody else is there to hear
            assert heard == []
    finally:
        await stop()
        await other.close()


async def test_a_database_of_an_earlier_release_gets_only_the_migrations_it_lacks(db_url, clock):
    """As left by a gateway that knew the first seven migrations, with a row in it."""
    from gateway.model import Site
    from gateway.stores.connector import Op, Script

    def earlier_release():
        yield Op("create_schema_migrations")
        for name in MIGRATIONS[:-1]:
            yield Script(name)
            yield Op("record_migration", {"name": name, "applied_at": clock.now()})
        yield Op("insert_site", {"id": "s_old", "dealer_id": "1", "name": "Old", "time_zone": "UTC",
                                 "created_at": clock.now()})

    old = open_store(db_url, clock=clock)
    await old.db.open()
    await old.db.transaction(earlier_release)
    await old.db.close()
    store = open_store(db_url, clock=clock)
    await store.db.open()
    try:
        assert await store.migrate() == [MIGRATIONS[-1]]
        assert await store.get_site("s_old") == Site(id="s_old", dealer_id="1", name="Old", created_at=clock.now())
    finally:
        await store.close()
