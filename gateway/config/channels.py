"""``voice`` and ``push``: the two ways to reach a person besides a text and an email."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import msgspec

from gateway.config.base import Positive, Section

if TYPE_CHECKING:
    from gateway.config.sections import Config

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$")  # BCP 47, as TTS voices name them
MACHINE_PLACEHOLDERS = frozenset({"central_station", "site_name", "first_name", "last_name", "contact_name", "zone",
                                  "event_text", "time", "date"})


class Voice(Section):
    """``voice``: how a verification call speaks (a contact's own ``language`` wins over ``language``)."""

    language: str = "en-US"  # BCP 47, for <Say> and for understanding a spoken yes or no
    tts_voice: str = "alice"  # Twilio's <Say voice>: alice, man, woman, or a Polly./Google. voice
    voices: dict[str, str] = msgspec.field(default_factory=dict)  # by language: the voice that speaks it
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


def check_channels(config: Config, bad: Callable[[tuple, str], None]) -> None:
    """The ``voice`` and ``push`` problems ``gateway check`` and ``serve`` report, each naming its key."""
    from gateway.core.templates import placeholders

    for path, tag in [(("voice", "language"), config.voice.language),
                      *((("voice", "voices", t), t) for t in config.voice.voices)]:
        if not _LANGUAGE.fullmatch(tag):
            bad(path, f"{tag!r} is not a BCP 47 language tag like en-US")
    try:
        unknown = sorted(placeholders(config.voice.machine_message) - MACHINE_PLACEHOLDERS)
    except ValueError as exc:
        unknown = [str(exc)]
    if unknown:
        bad(("voice", "machine_message"), f"unknown placeholder(s) {', '.join(unknown)} "
                                          f"(allowed: {', '.join(sorted(MACHINE_PLACEHOLDERS))})")
    if config.push.backend == "webpush":
        subject = config.push.subject or ""
        if not subject.startswith(("mailto:", "https://")) or len(subject) < 10:
            bad(("push", "subject"), "required for webpush: whom push services may contact, "
                                     "'mailto:ops@example.com' or an https:// URL (RFC 8292)")


def channels_summary(config: Config) -> list[str]:
    """``gateway check``'s lines about the call and push methods."""
    voice = config.voice
    voices = "".join(f", {tag}: {name}" for tag, name in voice.voices.items())
    lines = [f"call: through the {config.carrier.backend} carrier, in {voice.language} (voice {voice.tts_voice}"
             f"{voices}), answering machines {'detected' if voice.machine_detection else 'not detected'}"]
    if config.push.backend == "none":
        lines.append("push: not configured (push.backend: none): the push method answers 422 UNSUPPORTED_METHOD")
    else:
        key = config.push.vapid_private_key_file or "vapid_private.pem beside the database"
        lines.append(f"push: webpush as {config.push.subject}, VAPID key {key}")
    return lines
