"""Round trips to PostgreSQL per inbound text, counted at asyncpg's connection (every query, BEGIN and COMMIT
is one call there), through the app with its loops left to the test: the figure issue 10's PostgreSQL aim
turns on (bench/README.md), which no load on the machine moves. Counted after a first text, once every
statement is prepared (a statement's first use costs one more)."""

from __future__ import annotations

import asyncpg
import msgspec
import pytest

from gateway.config import Database
from tests.conftest import PHONE
from tests.helpers import deliver, post_alarm, text

pytestmark = pytest.mark.postgres
CALLS = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


@pytest.fixture(name="config")
def pg_config(config, pg_url):
    return msgspec.structs.replace(config, database=Database(url=pg_url))


@pytest.fixture
def trips(monkeypatch) -> list[str]:
    """The SQL of every call to a PostgreSQL connection from now on, in order."""
    seen: list[str] = []
    for name in CALLS:
        original = getattr(asyncpg.Connection, name)

        def counted(self, query, *args, _original=original, **kwargs):
            seen.append(query)
            return _original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, name, counted)
    return seen


async def per_text(client, trips: list[str], phone: str, body: str) -> list[str]:
    await text(client, phone, body)  # its statements prepared
    del trips[:]
    await text(client, phone, body)
    return list(trips)


async def test_help_from_an_unknown_number_costs_four_round_trips(client, trips):
    sql = await per_text(client, trips, "+15559990001", "HELP")
    # BEGIN with the number's turn; every read of the text in one statement (contacts, state: two before
    # phone_lookup); every write of its decision in one (the text, its reply, its log row, the number's state: four
    # before migrations/0016_one_trip.sql); COMMIT.
    assert len(sql) == 4, sql
    assert sql[0].startswith("BEGIN; SELECT pg_advisory_xact_lock") and sql[-1] == "COMMIT"
    assert sql[1].startswith("SELECT k.contacts") and sql[2] == "SELECT gateway_commit_decision($1);", sql


async def test_a_contacts_chatter_without_an_open_verification_costs_four_round_trips(client, trips, contact):
    sql = await per_text(client, trips, PHONE, "hello there")
    assert len(sql) == 4, sql  # six before: its open verifications and dispatches were reads of their own


async def test_a_yes_to_an_open_verification_costs_four_round_trips(client, trips, auth, site, contact):
    await post_alarm(client, auth, site.id)
    await deliver(client)
    await text(client, PHONE, "status")  # statements prepared
    del trips[:]
    await text(client, PHONE, "YES")
    # BEGIN with the turn; contacts, state, open verifications, reply references, open dispatches in one read
    # (five round trips before); the text, the answer, its reply, log rows and webhook event in one write; COMMIT
    assert len(trips) == 4, trips
    assert trips[2] == "SELECT gateway_commit_decision($1);", trips
