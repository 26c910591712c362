"""PINs inside texts: finding them, masking them, and what checking one found.

A PIN travels as the last word of a text (``YES 4821``, ``STATUS 4821``) or as the whole
text. It is masked before anything is stored, logged or counted, whether it was right or not.
"""

from __future__ import annotations

import enum
import re

MASK = "****"
# The PIN is the last word; punctuation after it ("STATUS 4821.", "Yes 4821!") is not part of the text.
_TRAILING_PIN = re.compile(r"^(?P<text>.*?)(?:^|\s+)(?P<pin>\d{4,8})[\s.,;:!?]*$", re.DOTALL)
# Any standalone group of 4 to 8 digits, wherever it stands ("4821 YES"), is masked before storage.
_PIN_SHAPED = re.compile(r"(?<![\d+\-/:.])\d{4,8}(?![\d\-/:]|\.\d)")


class PinCheck(enum.Enum):
    ABSENT = "absent"  # the text carries no PIN-shaped word
    VALID = "valid"
    DURESS = "duress"  # the duress PIN: behaves as VALID to the sender
    WRONG = "wrong"
    UNCHECKED = "unchecked"  # PIN-shaped, but the sender has no PIN to check against
    SHED = "shed"  # not checked: too many checks at once (gateway/admission.py); refused, not a failure

    @property
    def authenticated(self) -> bool:
        return self in (PinCheck.VALID, PinCheck.DURESS)


def split_pin(body: str) -> tuple[str, str | None]:
    """``("YES", "4821")`` for ``"YES 4821"``; ``(body, None)`` when no PIN-shaped last word."""
    match = _TRAILING_PIN.match(body)
    if not match:
        return body, None
    return match.group("text").strip(), match.group("pin")


def masked(body: str) -> str:
    """The text as it may be stored: every standalone group of 4 to 8 digits replaced by ``****``.

    Broader than the PIN itself on purpose: a PIN typed first, or followed by punctuation,
    must not reach a row either. Phone numbers, times and dates (digits joined by + - / : .)
    are kept.
    """
    return _PIN_SHAPED.sub(MASK, body)
