"""Fixtures for the contract tests that make their rows through the app (real traffic), on the
parametrized engine: the app's config on ``db_url``, and the app's own store."""

from __future__ import annotations

import msgspec
import pytest

from gateway.config import Database
from gateway.web.appkeys import STORE


@pytest.fixture(name="config")
def app_config(config, db_url):
    return msgspec.structs.replace(config, database=Database(url=db_url))


@pytest.fixture(name="store")
def app_store(client, app):
    return app[STORE]
