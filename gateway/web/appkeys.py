"""Typed keys for what the application holds (aiohttp ``web.AppKey``)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from gateway.services.alarms import AlarmService
from gateway.auth.apikeys import ApiKeyAuth
from gateway.carriers import Carrier
from gateway.clock import Clock
from gateway.config import Config
from gateway.loops.canary import CanaryWatch
from gateway.loops.escalation import Escalation
from gateway.loops.expiry import VerificationExpiry
from gateway.loops.recovery import InboundRecovery
from gateway.services.inbound import InboundService
from gateway.services.keyword_holder import KeywordFile
from gateway.daemon.metrics import Metrics
from gateway.auth.oauth import PartnerAuth
from gateway.loops.sender import OutboxSender
from gateway.services.responses import ResponseLinks
from gateway.services.sites import SiteService
from gateway.mail import Mailer
from gateway.stores import Store
from gateway.services.verifications import VerificationService
from gateway.loops.webhooks import WebhookDispatcher
from gateway.services.welcome import WelcomeService
from gateway.push import WebPush
from gateway.services.push_subscriptions import PushSubscriptions

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
METRICS = web.AppKey("metrics", Metrics)
STORE = web.AppKey("store", Store)
# Set once SIGTERM came and the stop grace (http.stop_grace_seconds) runs: /readyz answers 503 meanwhile
STOPPING = web.AppKey("stopping", asyncio.Event)
KEYWORDS = web.AppKey("keywords", KeywordFile)
CARRIER = web.AppKey("carrier", Carrier)
INBOUND = web.AppKey("inbound", InboundService)
ALARMS = web.AppKey("alarms", AlarmService)
SENDER = web.AppKey("sender", OutboxSender)
EXPIRY = web.AppKey("expiry", VerificationExpiry)
ESCALATION = web.AppKey("escalation", Escalation)
API_KEYS = web.AppKey("api_keys", ApiKeyAuth)
MAX_BODY = web.AppKey("max_body_bytes", int)
WEBHOOKS = web.AppKey("webhooks", WebhookDispatcher)
PARTNER_AUTH = web.AppKey("partner_auth", PartnerAuth)
WELCOME = web.AppKey("welcome", WelcomeService)
TRACE_ID = web.RequestKey("trace_id", str)
VERIFICATIONS = web.AppKey("verifications", VerificationService)
MAILER = web.AppKey("mailer", Mailer)
SITES = web.AppKey("sites", SiteService)
RESPONSE_LINKS = web.AppKey("response_links", ResponseLinks)
RECOVERY = web.AppKey("recovery", InboundRecovery)
CANARY = web.AppKey("canary", CanaryWatch)
PUSH = web.AppKey("push", WebPush)  # only when push.backend is webpush
PUSH_SUBSCRIPTIONS = web.AppKey("push_subscriptions", PushSubscriptions)
