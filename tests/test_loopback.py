"""The loopback carrier's own guard: a daemon that serves its unauthenticated paths beyond this machine says so."""

from __future__ import annotations

import logging

import msgspec
import pytest


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("127.0.0.1", False)])
async def test_serve_logs_the_warning_at_start(aiohttp_client, config, clock, caplog, host, warned):
    from gateway.web.app import create_app

    exposed = msgspec.structs.replace(config, http=msgspec.structs.replace(config.http, host=host))
    with caplog.at_level(logging.WARNING):
        await aiohttp_client(create_app(exposed, clock=clock, run_loops=False))  # the test server binds 127.0.0.1
    assert any("NO authentication" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records) is warned
