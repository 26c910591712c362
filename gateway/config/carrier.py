"""``carrier``: the SMS backend, its default sender, and the Twilio account's settings."""

from __future__ import annotations

from typing import Annotated

import msgspec

from gateway.config.base import Positive, PositiveFloat, Section

# How far back to ask the carrier for inbound texts the gateway missed (0: never). A day at most: a command
# run later than that would surprise the one who sent it.
RecoverMinutes = Annotated[int, msgspec.Meta(ge=0, le=1440)]


class Twilio(Section):
    """``carrier.twilio``: the account, webhook signatures, sending pace, validity and lookups.

    ``account_sid`` and ``auth_token`` may also come from ``$TWILIO_ACCOUNT_SID`` and
    ``$TWILIO_AUTH_TOKEN``, the token from ``auth_token_file``.
    """

    account_sid: str | None = None
    auth_token: str | None = None
    auth_token_file: str | None = None
    messaging_service_sid: str | None = None
    validate_signatures: bool = True
    status_callback: bool = True
    max_per_second: PositiveFloat = 1.0
    max_per_second_by_sender: dict[str, PositiveFloat] = msgspec.field(default_factory=dict)
    request_timeout_seconds: PositiveFloat = 10.0
    alarm_validity_seconds: Annotated[int, msgspec.Meta(ge=1, le=36000)] = 600
    lookup_on_create: bool = False
    lookup_cache_days: Positive = 30
    recover_inbound_minutes: RecoverMinutes = 60
    api_base_url: str | None = None  # tests point the client at a fake Twilio


class Loopback(Section):
    """``carrier.loopback``: the loopback carrier's texts "missed" (kept, not delivered) are recovered too;
    ``max_per_second`` paces its sends like a real carrier's (segments per second; none: unpaced)."""

    recover_inbound_minutes: RecoverMinutes = 60
    max_per_second: PositiveFloat | None = None


class Carrier(Section):
    """``carrier``: the SMS backend by registry name, and the default sender number."""

    backend: str = "loopback"
    from_number: str = "+15550000000"
    twilio: Twilio | None = None
    loopback: Loopback = msgspec.field(default_factory=Loopback)
    # The loopback carrier's simulated network time per send (load runs, crash tests).
    loopback_latency_seconds: Annotated[float, msgspec.Meta(ge=0, le=10)] = 0.0
