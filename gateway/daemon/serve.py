"""``gateway serve``: the daemon in the foreground, under systemd or a terminal.

SIGTERM/SIGINT stop it gracefully (no new connections, in-flight requests and sends
finish within bounds, exit 0); SIGHUP reloads keywords.yaml. systemd hears READY=1 once
the store and listener are up, STOPPING=1 on the way out, and WATCHDOG=1 pings.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web

from gateway.config import Config
from gateway.errors import ConfigurationError
from gateway.daemon.malloc import keep_large_blocks_mapped
from gateway.daemon.sdnotify import Notifier, watchdog_loop
from gateway.web.app import create_app
from gateway.web.appkeys import KEYWORDS, METRICS, STOPPING, STORE
from gateway.web.connections import ConnectionLimit
from gateway.web.listener import GuardedSite, fit_open_files, quiet_accept_errors

log = logging.getLogger("gateway")
SHUTDOWN_SECONDS = 10.0  # in-flight HTTP requests get this long to finish
YOUNG_OBJECTS = 20_000  # the cyclic collector's first threshold (Python's default 700), see below


async def serve(config: Config, notifier: Notifier | None = None) -> int:
    keep_large_blocks_mapped()
    app = create_app(config)
    with app[STORE].daemon_lock():  # the engine's rule: one daemon per SQLite file, any number on PostgreSQL
        return await _serve(app, config, notifier or Notifier.from_env())


async def _serve(app: web.Application, config: Config, notifier: Notifier) -> int:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_SECONDS,
                           keepalive_timeout=config.http.keepalive_seconds)
    await runner.setup()  # opens the store (migrating it) and starts the loops
    limit = ConnectionLimit(runner.server, config.http, cap=fit_open_files(config.http.max_connections),
                            metrics=app[METRICS])
    site = GuardedSite(runner, config.http.host, config.http.port, limit)
    quiet_accept_errors(asyncio.get_running_loop())
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()  # stop the loops and close the store, or their threads keep the process alive
        raise ConfigurationError(f"http: cannot listen on {config.http.host}:{config.http.port}: "
                                 f"{exc.strerror or exc}") from None

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def reload() -> None:
        notifier.reloading()
        try:
            app[KEYWORDS].reload()
        finally:
            notifier.ready()  # systemd leaves "reloading" whatever the file held

    loop.add_signal_handler(signal.SIGHUP, reload)
    # What start-up made (modules, the keyword table, templates) lives as long as the daemon: collected once and
    # frozen, so the cyclic collector's passes over older generations no longer walk it (its share of the daemon's
    # CPU under load 3.1% -> 1.8%, `perf record -e cpu-clock`, bench/README.md).
    gc.collect()
    gc.freeze()
    # The collector's first generation runs once 700 more container objects are alive than at its last pass. A
    # text makes no reference cycles (tests/test_gc.py), but 32 texts in flight hold a few thousand objects at
    # once, so at 700 it ran every ~17 texts and found nothing (-2% instructions per HELP text, bench/README.md).
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    notifier.ready(status=f"serving on {config.http.host}:{config.http.port}")
    log.info("gateway serving on http://%s:%d (store %s, carrier %s)", config.http.host, config.http.port,
             config.database.engine, config.carrier.backend)
    watchdog = asyncio.create_task(watchdog_loop(notifier, stop))
    await stop.wait()
    grace = config.http.stop_grace_seconds
    if grace > 0:  # a balancer's health check sees 503 and sends the rest elsewhere; we serve until then
        log.info("stopping: /readyz answers 503 for %.1f s (http.stop_grace_seconds), still serving", grace)
        app[STOPPING].set()
        await asyncio.sleep(grace)  # real time, bounded by the config (at most 60 s)
    log.info("stopping: no new connections; draining in-flight work")
    notifier.stopping()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.remove_signal_handler(signum)
    await runner.cleanup()
    await watchdog
    log.info("stopped")
    return 0
