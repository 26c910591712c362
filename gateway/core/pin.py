"""PINs inside texts: reading them in any script, finding them, masking them, and what checking one found.

A PIN travels as the last word of a text (``YES 4821``, ``STATUS 4821``) or as the whole
text. It is masked before anything is stored, logged or counted, whether it was right or not,
and so is anything else in the text that could be a PIN (the rule: README, "No PIN stored").
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from datetime import date

MASK = "****"
# Punctuation after the PIN ("STATUS 4821.", "Yes 4821!") is not part of the text.
_AFTER_PIN = ".,;:!?"
_PIN = re.compile(r"[0-9]{4,8}")
# _CHAIN's separators, which other keyboards' forms (fullwidth, no-break spaces) become; none normalises to a tab.
_JOINS = frozenset(" ()-./:+")
# A number: digit groups joined by separators. Its parts: the pieces between joins with a space in them.
_CHAIN = re.compile(r"[0-9]+(?:[ \t()\-./:+]{1,3}[0-9]+)*")
_PART = re.compile(r"[0-9]+(?:[()\-./:+]{1,3}[0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
_LONG = re.compile(r"[0-9]{9,}")  # longer than any PIN
_TWO_NUMBERS = re.compile(r"[0-9]{1,3}[ \t]+[0-9]{1,3}")
_TIME = re.compile(r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?")
_DATE = re.compile(r"(?P<a>[0-9]{1,4})(?P<sep>[-./])(?P<b>[0-9]{1,2})(?P=sep)(?P<c>[0-9]{1,4})")
# The PIN a text carries, wherever it stands again: its digits with at most 3 non-letters between them.
_DIGIT_RUN = re.compile(r"[0-9](?:[\W_]{0,3}[0-9])*")


class PinCheck(enum.Enum):
    ABSENT = "absent"  # the text carries no PIN-shaped word
    VALID = "valid"
    DURESS = "duress"  # the duress PIN: behaves as VALID to the sender
    WRONG = "wrong"
    UNCHECKED = "unchecked"  # PIN-shaped, but the sender has no PIN to check against
    SHED = "shed"  # not checked: too many checks at once (gateway/auth/admission.py); refused, not a failure

    @property
    def authenticated(self) -> bool:
        return self in (PinCheck.VALID, PinCheck.DURESS)


def ascii_digits(text: str) -> str:
    """``text`` with every digit of any script (Arabic-Indic, fullwidth, superscript...) as an ASCII digit,
    and the characters that join digits into a number as their ASCII selves (fullwidth ``－``, no-break and
    ideographic spaces...), so a PIN set or typed on any keyboard is the same PIN, and is masked the same."""
    return text if text.isascii() else "".join(map(_ascii_digit, text))


@functools.lru_cache(maxsize=4096)  # texts repeat their few scripts; bounded against a flood of rare characters
def _ascii_digit(char: str) -> str:
    if char.isascii():
        return char
    folded = unicodedata.normalize("NFKC", char)
    if folded in _JOINS:
        return folded
    values = [unicodedata.digit(c, None) for c in folded]
    if all(v is None for v in values):
        return char
    return "".join(c if v is None else str(v) for c, v in zip(folded, values))


def normalized_pin(text: str) -> str | None:
    """The PIN in ``text`` (4 to 8 digits of any script, nothing else) in ASCII digits; None if it is none."""
    pin = ascii_digits(text).strip()
    return pin if _PIN.fullmatch(pin) else None


def split_pin(body: str) -> tuple[str, str | None]:
    """``("YES", "4821")`` for ``"YES 4821"``; ``(body, None)`` when no PIN-shaped last word. Digits come back
    in ASCII, and the words with the PIN masked wherever else they spell it (``"STATUS 48 21 4821"`` gives
    ``"STATUS ****"``): what reads them (the SMS interface, which echoes a site name and logs an unknown
    command) cannot pass it on."""
    body = ascii_digits(body)
    # Scanned, not matched: a regular expression for "last word" backtracks over a long run of spaces
    # (1,600 of them took 18 ms of the event loop).
    end = len(body)
    while end and (body[end - 1].isspace() or body[end - 1] in _AFTER_PIN):
        end -= 1
    start = end
    while start and "0" <= body[start - 1] <= "9":
        start -= 1
    if not 4 <= end - start <= 8 or start and not body[start - 1].isspace():
        return body, None
    pin = body[start:end]
    return _without(body[:start].strip(), pin), pin


def masked(body: str, pin: str | None = None) -> str:
    """The text as it may be stored: ``pin`` (the one the text carries) wherever its digits stand, and
    everything PIN-shaped, replaced by ``****``; digits in ASCII."""
    body = ascii_digits(body)
    if pin:
        body = _without(body, pin)
    return _CHAIN.sub(lambda chain: _mask_chain(chain[0]), body)


def _without(text: str, pin: str) -> str:
    return _DIGIT_RUN.sub(lambda run: _mask_known(run[0], pin), text)


def _mask_known(run: str, pin: str) -> str:
    """``run`` with each stretch whose digits spell ``pin`` masked, whatever separates or surrounds them."""
    places = [i for i, c in enumerate(run) if "0" <= c <= "9"]
    digits = "".join(run[i] for i in places)
    out, done, start = [], 0, digits.find(pin)
    while start >= 0:
        first, last = places[start], places[start + len(pin) - 1]
        out += [run[done:first], MASK]
        done = last + 1
        start = digits.find(pin, start + len(pin))
    return "".join(out) + run[done:]


def _mask_chain(chain: str) -> str:
    """One number: digits joined by separators ("7 3 9 1 8 2 6", "STATUS 12:7-391-826", "+1 555 123 4567").
    Masked whole once it has 4 digits, unless it is one of the shapes that cannot be a PIN or must stay
    readable (``_kept``)."""
    return chain if _digits(chain) < 4 or _kept(chain) else MASK


def _kept(chain: str) -> bool:
    if all(_readable(part[0]) for part in _PART.finditer(chain)):
        return True
    # Two small numbers with spaces alone between them stay two numbers: "TEST 1 120" keeps its meaning
    # while it waits for the PIN.
    return bool(_LONG.fullmatch(chain) or _TWO_NUMBERS.fullmatch(chain)) or _phone_number(chain)


def _digits(text: str) -> int:
    return sum("0" <= c <= "9" for c in text)


def _phone_number(chain: str) -> bool:
    """Grouped like a phone number, too long to be a PIN: 9 to 15 digits in groups of 2 to 4 (the first two
    may be single digits), no colon, no date ("+1 555 123 4567", "(555) 123-4567", "+33 6 12 34 56 78")."""
    groups = _GROUP.findall(chain)
    return (len(groups) > 1 and 9 <= sum(map(len, groups)) <= 15 and ":" not in chain
            and all(2 <= len(g) <= 4 or len(g) == 1 and i < 2 for i, g in enumerate(groups))
            and not any(_readable(part[0]) for part in _PART.finditer(chain)))


def _readable(part: str) -> bool:
    """A clock time (20:45, 8:05:30) or a date with its 4-digit year (2026-01-15, 15.01.2026, 1/15/2026).
    Shorter dates (15.01, 1/15/26) are any few small numbers, and may be a PIN."""
    if _TIME.fullmatch(part):
        return True
    match = _DATE.fullmatch(part)
    if not match:
        return False
    a, b, c = match["a"], match["b"], match["c"]
    if len(a) == 4:
        return len(c) <= 2 and _valid_date(int(a), int(b), int(c))
    year = int(c)
    return len(a) <= 2 and len(c) == 4 and (_valid_date(year, int(b), int(a)) or _valid_date(year, int(a), int(b)))


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        return 1900 <= year <= 2099 and bool(date(year, month, day))
    except ValueError:
        return False
