"""What a phone may see of the event log: which rows (``hidden_codes``).

The one rule for STATUS and EVENTS. A duress login must leave nothing a phone can see that a normal
login would not (the person holding the phone may be the one forcing it), and a phone never reads
what another person wrote.
"""

from __future__ import annotations

from gateway.config import Interface


def hidden_codes(config: Interface) -> list[str]:
    """The codes a phone never sees: the interface's authentication rows (duress, wrong PIN, lockout,
    expired PIN: the central station's audit, not a phone's) and ``interface.hidden_codes``."""
    codes = config.codes
    return sorted({codes.duress, codes.failed_pin, codes.lockout, codes.expired_pin, *config.hidden_codes})

