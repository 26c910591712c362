"""The SQLite connector binds numbered parameters from tuples: the rewrite keeps what each query means."""

from __future__ import annotations

import sqlite3

import pytest

from gateway.stores.connector import Op
from gateway.stores.sqlite import connector as sqlite_connector
from gateway.stores.sqlite.connector import QUERIES, _BOUND, run
from gateway.stores.sqlite.positional import getter, numbered


def test_names_become_numbers_in_order_of_first_use_and_a_repeated_name_keeps_its_number():
    sql, names = numbered("SELECT * FROM t WHERE a = :a AND (b = :b OR :a IS NULL) AND c > :c_at;")
    assert sql == "SELECT * FROM t WHERE a = ?1 AND (b = ?2 OR ?1 IS NULL) AND c > ?3;"
    assert names == ("a", "b", "c_at")


def test_colons_in_literals_quoted_names_and_comments_are_left_alone():
    sql, names = numbered("-- at :not_a_param\nSELECT ':no', \"x:y\", [z:w] /* :nor */ FROM t WHERE k = :k")
    assert sql == "-- at :not_a_param\nSELECT ':no', \"x:y\", [z:w] /* :nor */ FROM t WHERE k = ?1"
    assert names == ("k",)


def test_a_missing_value_is_refused_as_sqlite3_refuses_it_and_extra_keys_are_ignored():
    values = getter(("a", "b"))
    assert values({"b": 2, "a": 1, "unused": 3}) == (1, 2)
    assert getter(("a",))({"a": None}) == (None,)
    assert getter(())({"x": 1}) == ()
    with pytest.raises(sqlite3.ProgrammingError, match=":b"):
        values({"a": 1})


def test_every_query_of_queries_sql_is_rewritten_without_a_named_parameter_left():
    for name in QUERIES:
        sql, _ = _BOUND[name]
        stripped, names = numbered(sql)
        assert names == (), f"{name}: {sql}"
        assert stripped == sql


def test_a_query_runs_with_its_values_bound_by_name_as_before(monkeypatch):
    # A two-column stand-in for contacts: the row plans remembered from the real table must not apply to it.
    monkeypatch.setattr(sqlite_connector, "_PLANS", {})
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, phone TEXT)")
    conn.executemany("INSERT INTO contacts (phone) VALUES (?)", [("+15550001",), ("+15550002",), ("+15550001",)])
    rows = run(conn, Op("contacts_by_phone", {"phone": "+15550001"}))
    assert [r["id"] for r in rows] == [1, 3]
    assert run(conn, Op("contacts_by_phone", {"phone": None})) == []
