"""``voice`` and ``push``: the two ways to reach a person besides a text and an email."""

from __future__ import annotations

from typing import Literal

from gateway.config.base import Positive, Section


class Voice(Section):
    """``voice``: how a verification call speaks (a contact's own ``language`` wins over ``language``)."""

    language: str = "en-US"  # BCP 47, for <Say> and for understanding a spoken yes or no
    tts_voice: str = "alice"  # Twilio's <Say voice>: alice, man, woman, or a Polly./Google. voice
    machine_detection: bool = True  # an answering machine hears ``machine_message`` and the call counts unanswered
    machine_message: str = ("This is {central_station} with an alarm at {site_name}. Please call us back "
                            "at once.")
    max_repeats: Positive = 3  # times the text is said when nothing is pressed, before the call ends unanswered
    timeout_seconds: Positive = 30  # how long Twilio lets it ring before it counts as no-answer


class Push(Section):
    """``push``: Web Push (RFC 8030/8291/8292) to the browsers contacts allowed on the welcome page."""

    backend: Literal["none", "webpush"] = "none"
    vapid_private_key_file: str | None = None  # PEM; made on first start when it does not exist
    subject: str | None = None  # "mailto:ops@example.com" or an https:// URL: whom a push service may contact
    request_timeout_seconds: Positive = 10
