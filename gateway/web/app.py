"""The one application factory, used by ``gateway serve`` and by every test."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from gateway.auth.admission import CheckAdmission
from gateway.services.alarms import AlarmService
from gateway.auth.apikeys import ApiKeyAuth, load_keys_file
from gateway.auth.operator_key import stored_operator_key, write_operator_key
from gateway.services.calls import CallDesk
from gateway.push import WebPush
from gateway.services.push_subscriptions import PushSubscriptions
from gateway.carriers import CarrierServices, create_carrier
from gateway.clock import Clock
from gateway.config import Config
from gateway.loops.canary import CanaryWatch
from gateway.loops.escalation import Escalation
from gateway.loops.expiry import VerificationExpiry
from gateway.loops.recovery import InboundRecovery
from gateway.services.inbound import InboundService
from gateway.services.keyword_holder import KeywordFile
from gateway.daemon.metrics import Metrics
from gateway.services.lookups import PhoneLookups, lookup_on_create
from gateway.services.responses import ResponseLinks
from gateway.services.sites import SiteService
from gateway.mail import create_mailer
from gateway.mail.courier import EmailCourier
from gateway.auth.oauth import PartnerAuth, load_clients_file
from gateway.loops.sender import OutboxSender
from gateway.services.verifications import VerificationService
from gateway.stores import configured_store
from gateway.stores.manager.base import OUTBOX_CHANNEL, WEBHOOKS_CHANNEL
from gateway.loops.webhooks import WebhookDispatcher
from gateway.services.welcome import KIND as WELCOME_KIND, WelcomeService
from gateway.web import console, ext_api, headers, health, openapi, partner_api, response_pages, verifications_api
from gateway.web import push_pages
from gateway.web import token_endpoint as oauth
from gateway.web import welcome_page as welcome
from gateway.web.appkeys import (
    ALARMS, API_KEYS, CARRIER, CLOCK, CONFIG, EXPIRY, INBOUND, KEYWORDS, MAILER, MAX_BODY, METRICS, SENDER, STORE,
    VERIFICATIONS, WEBHOOKS,
)
from gateway.web.appkeys import CANARY, ESCALATION, PARTNER_AUTH, RECOVERY, RESPONSE_LINKS, SITES, WELCOME
from gateway.web.appkeys import PUSH, PUSH_SUBSCRIPTIONS, STOPPING
from gateway.web.middleware import trace_and_errors

log = logging.getLogger(__name__)


def operator_key_path(config: Config) -> Path:
    """Where the daemon leaves the local operator's key: beside the SQLite file, else ./var."""
    return config.state_folder / "operator.key"


def create_app(config: Config, *, clock: Clock | None = None, run_loops: bool = True) -> web.Application:
    """A ready-to-run application. ``run_loops=False`` leaves the sender and expiry loops to the caller (tests)."""
    clock = clock or Clock()
    metrics = Metrics(canary=config.canary is not None)
    app = web.Application(middlewares=[trace_and_errors], client_max_size=config.http.max_body_bytes)
    headers.install(app, config.http.public_url)
    store = configured_store(config, clock=clock)
    keywords = KeywordFile(config.keywords_path, metrics, clock)
    checks = CheckAdmission(config.credential_checks, clock, metrics)  # one argon2 thread: one admission for all
    canary = (CanaryWatch(config.canary, config.carrier.from_number, store, clock, metrics, config.outbox.poll_seconds)
              if config.canary else None)
    inbound = InboundService(store, keywords, clock, metrics, config.phone.default_region, config.interface,
                             config.verifications, checks=checks, canary=canary)
    calls = CallDesk(store, keywords, clock, metrics, config.voice, config.verifications.already_answered)
    carrier = create_carrier(config.carrier.backend, CarrierServices(config, store, clock, inbound, metrics, calls))
    mailer = create_mailer(config.email, folder=config.folder)
    courier = EmailCourier(mailer, store, clock, config.http.public_url, config.email.from_address)
    push = WebPush(config, store, clock, keywords, metrics) if config.push.backend == "webpush" else None
    sender = OutboxSender(store, carrier, clock, metrics, config.outbox, email=courier, push=push)
    calls.gave_up = sender.gave_up
    if canary is not None:
        app[CANARY], canary.wake = canary, sender.wake
    app[CONFIG], app[CLOCK], app[METRICS], app[STORE], app[KEYWORDS] = config, clock, metrics, store, keywords
    app[STOPPING] = asyncio.Event()
    app[INBOUND], app[CARRIER], app[SENDER], app[MAX_BODY] = inbound, carrier, sender, config.http.max_body_bytes
    app[ALARMS] = AlarmService(store, keywords, clock, metrics, config.carrier.from_number, sender.wake,
                               locks=inbound.locks)
    app[EXPIRY] = VerificationExpiry(store, keywords, clock, metrics, config.verifications.expiry_poll_seconds,
                                     config.interface.codes.test_end)
    app[ESCALATION] = Escalation(store, keywords, clock, metrics, config.verifications.expiry_poll_seconds,
                                 config.carrier.from_number, sender.wake)
    sender.give_up_hooks["verification"] = app[ESCALATION].step_failed
    app[RECOVERY] = InboundRecovery(store, carrier, inbound, clock, metrics, config.own_numbers, sender.wake,
                                    config.outbox.poll_seconds)
    app[API_KEYS] = ApiKeyAuth(store, file_keys=load_keys_file(config.resolve(config.api.keys_file))
                               if config.api.keys_file else None, clock=clock, checks=checks)
    clients_file = config.api.oauth_clients_file
    app[PARTNER_AUTH] = PartnerAuth(store, clock, config.api.oauth_token_seconds,
                                    load_clients_file(config.resolve(clients_file)) if clients_file else None,
                                    checks=checks)
    app[WELCOME] = WelcomeService(store, config, keywords, clock, metrics, sender.wake)
    sender.give_up_hooks[WELCOME_KIND] = app[WELCOME].send_failed
    sender.compose_hooks[WELCOME_KIND] = app[WELCOME].compose

    app[RESPONSE_LINKS] = ResponseLinks(store, keywords, clock, metrics)
    app[VERIFICATIONS] = VerificationService(store, keywords, clock, metrics, sender, config.verifications,
                                             config.carrier.from_number, locks=inbound.locks)
    app[MAILER] = mailer
    lookups = (PhoneLookups(store, carrier, clock, config.carrier.twilio.lookup_cache_days)
               if lookup_on_create(config) else None)
    app[SITES] = SiteService(store, clock, config.phone.default_region, metrics=metrics, lookups=lookups)
    if config.webhooks:
        app[WEBHOOKS] = WebhookDispatcher(store, clock, metrics, config.webhooks, resolve=config.resolve,
                                          poll_seconds=config.outbox.poll_seconds)
    _push(app, push)
    _mount(app, carrier)
    _resources(app, run_loops=run_loops, canary=canary is not None, webhooks=bool(config.webhooks))
    return app


def _push(app: web.Application, push: WebPush | None) -> None:
    """The push method's parts: its sender opened and closed with the app, or the method refused."""
    app[PUSH_SUBSCRIPTIONS] = PushSubscriptions(app[STORE], app[CLOCK], app[METRICS])
    if push is None:
        app[VERIFICATIONS].unavailable["push"] = "push.backend is none (set it to webpush)."
        return
    app[PUSH] = push
    app.add_routes(push_pages.routes)

    async def opened(app: web.Application) -> AsyncIterator[None]:
        await push.start()
        yield
        await push.close()

    app.cleanup_ctx.append(opened)


def _mount(app: web.Application, carrier) -> None:
    """Every HTTP surface, and the carrier's own webhooks under ``/carriers/<name>/``."""
    for surface in (health, ext_api, verifications_api, response_pages, oauth, partner_api, welcome, openapi):
        app.add_routes(surface.routes)
    console.setup(app)
    # On the application itself, not a sub-application: every inbound text would pay a second resolve and a
    # second Application._handle (3-5% of the event loop's time, bench/README.md).
    prefix = f"/carriers/{carrier.name}"
    app.add_routes([web.RouteDef(r.method, prefix + r.path, r.handler, r.kwargs) for r in carrier.routes()])


def _resources(app: web.Application, *, run_loops: bool, canary: bool, webhooks: bool) -> None:
    """What the application opens and closes, in order, and the loops it runs (``run_loops=False``: tests)."""
    app.cleanup_ctx.append(_store)
    app.cleanup_ctx.append(_operator_key)
    app.cleanup_ctx.append(_carrier)
    app.cleanup_ctx.append(_mailer)
    app.cleanup_ctx.append(functools.partial(_recovery_loop, run_loop=run_loops))
    if run_loops:
        app.cleanup_ctx.append(_sender_loop)
        app.cleanup_ctx.append(functools.partial(_timed_loop, key=EXPIRY, name="verification-expiry"))
        app.cleanup_ctx.append(functools.partial(_timed_loop, key=ESCALATION, name="escalation"))
        if canary:
            app.cleanup_ctx.append(_canary_loop)
    if webhooks:
        app.cleanup_ctx.append(functools.partial(_webhook_loop, run_loop=run_loops))


async def _store(app: web.Application) -> AsyncIterator[None]:
    await app[STORE].open()
    yield
    await app[STORE].close()


async def _operator_key(app: web.Application) -> AsyncIterator[None]:
    path = operator_key_path(app[CONFIG])
    if app[STORE].shared:  # a stored key per folder, every daemon's to accept, kept (gateway/auth/operator_key.py)
        await stored_operator_key(app[STORE], path, app[CLOCK])
        yield
        return
    app[API_KEYS].operator_key = write_operator_key(path)
    yield
    with contextlib.suppress(OSError):
        path.unlink()


async def _mailer(app: web.Application) -> AsyncIterator[None]:
    await app[MAILER].start()
    yield
    await app[MAILER].close()


async def _carrier(app: web.Application) -> AsyncIterator[None]:
    await app[CARRIER].start()
    yield
    await app[CARRIER].close()


async def _drain(task: asyncio.Task, seconds: float, too_slow: str) -> None:
    """Let a stopping loop finish what it has in flight for ``seconds``, then cancel it."""
    try:
        await asyncio.wait_for(asyncio.shield(task), seconds)
    except asyncio.TimeoutError:
        log.warning(too_slow, seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _sender_loop(app: web.Application) -> AsyncIterator[None]:
    sender = app[SENDER]
    await sender.start()
    task = asyncio.create_task(sender.run(), name="outbox-sender")
    unlisten = await app[STORE].listen(OUTBOX_CHANNEL, sender.wake)  # texts other daemons queue
    yield
    await unlisten()
    sender.stop()
    await _drain(task, app[CONFIG].outbox.drain_seconds, "outbox: sends still in flight after %.0fs; they stay "
                 "queued for the next start")


async def _timed_loop(app: web.Application, *, key: web.AppKey, name: str) -> AsyncIterator[None]:
    """A loop of timed work (verification expiry, call-list steps): run while the app runs, awaited at stop."""
    stop = asyncio.Event()
    task = asyncio.create_task(app[key].run(stop), name=name)
    yield
    stop.set()
    await task


async def _canary_loop(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(app[CANARY].run(stop), name="canary")
    yield
    stop.set()
    await _drain(task, app[CONFIG].outbox.drain_seconds, "canary: still busy after %.0fs; stopped")


async def _recovery_loop(app: web.Application, *, run_loop: bool) -> AsyncIterator[None]:
    """What the first pass asks from is read before the listener opens (tests then call ``run_once``)."""
    recovery = app[RECOVERY]
    await recovery.start()
    stop = asyncio.Event()
    task = asyncio.create_task(recovery.run(stop), name="inbound-recovery") if run_loop else None
    yield
    stop.set()
    if task is not None:
        await _drain(task, app[CONFIG].outbox.drain_seconds, "recovery: a pass still running after %.0fs; "
                     "what it did not run is asked for again at the next start")


async def _webhook_loop(app: web.Application, *, run_loop: bool) -> AsyncIterator[None]:
    """Secrets and HTTP session always (tests call ``run_once``); the loop itself only with ``run_loops``."""
    dispatcher = app[WEBHOOKS]
    await dispatcher.start()
    task = asyncio.create_task(dispatcher.run(), name="webhook-dispatcher") if run_loop else None
    unlisten = await app[STORE].listen(WEBHOOKS_CHANNEL, dispatcher.wake) if run_loop else None
    yield
    if unlisten is not None:
        await unlisten()
    dispatcher.stop()
    if task is not None:
        await _drain(task, app[CONFIG].outbox.drain_seconds, "webhooks: deliveries still in flight after %.0fs; "
                     "they are retried after the next start")
    await dispatcher.close()
