"""Fixtures that build on each other: config → app → client, with a clock tests can move."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gateway.auth.apikeys import create_key
from gateway.clock import ManualClock
from gateway.config import Config, Database, Http, Outbox
from gateway.model import Contact, Site
from gateway.web.app import create_app
from gateway.web.appkeys import STORE

# Fixtures for every test module that asks: fake_twilio; receiver (a webhook subscriber); pg_url and db_url
# (tests/postgres.py).
pytest_plugins = ["tests.fake_twilio", "tests.webhook_receiver", "tests.postgres"]

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ROOT / "keywords.yaml"
PHONE = "+15550123456"
OTHER_PHONE = "+15550123457"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 15, 15, 30, tzinfo=timezone.utc))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(
        http=Http(port=free_port()),
        database=Database(url=f"sqlite:///{tmp_path}/gateway.sqlite3"),
        keywords=str(KEYWORDS),
        outbox=Outbox(poll_seconds=0.05, backoff_base_seconds=1.0, drain_seconds=2.0),
    )


@pytest.fixture
def app(config: Config, clock: ManualClock):
    """The application with its loops left to the test (``run_once``), so the clock decides."""
    return create_app(config, clock=clock, run_loops=False)


@pytest.fixture
async def client(aiohttp_client, app):
    return await aiohttp_client(app)


@pytest.fixture
def store(client, app):
    return app[STORE]


@pytest.fixture
async def auth(store, clock) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_key(store, 'tests', clock)}"}


@pytest.fixture
async def site(store, clock) -> Site:
    return await store.add_site(Site(id="site_main", dealer_id="12345", name="Main Office",
                                     time_zone="America/New_York", created_at=clock.now()))


@pytest.fixture
async def contact(store, site, clock) -> Contact:
    return await store.add_contact(Contact(id=0, site_id=site.id, first_name="John", last_name="Doe", phone=PHONE,
                                           auto_notify=True, created_at=clock.now()))


@pytest.fixture
async def partner_token(client, store, clock):
    """``token(dealer_id)``: a real access token from POST /oauth/token for a new client of that dealer."""
    from gateway.auth.oauth import create_client

    async def token(dealer_id: str = "12345") -> dict[str, str]:
        client_id, secret = await create_client(store, dealer_id, "tests", clock)
        resp = await client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                      "client_secret": secret})
        assert resp.status == 200, await resp.text()
        return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}

    return token


@pytest.fixture
async def partner(partner_token) -> dict[str, str]:
    """Authorization headers of a partner client acting for dealer 12345 (the ``site`` fixture's dealer)."""
    return await partner_token("12345")


# Tests marked `postgres` need the server on 127.0.0.1:5432 and skip with a reason when none
# answers; under CI (CI=true) such a skip fails the run, so a missing server cannot pass unseen.
_skipped_postgres: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and "postgres" in report.keywords:
        _skipped_postgres.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    import os

    if os.environ.get("CI") == "true" and _skipped_postgres:
        print(f"\nCI: {len(_skipped_postgres)} PostgreSQL test(s) skipped; they must run in CI: "
              + ", ".join(_skipped_postgres[:5]))
        session.exitstatus = 1
