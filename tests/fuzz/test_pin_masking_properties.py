"""README "No PIN stored", as properties: what gateway/core/pin.py masks, and what it keeps readable.

The reference here reads a text as a person does: each character's digits in any script (after NFKC), letters
(and numbers that are no digit) as breaks, anything else as a separator; a PIN survives when its digits stand
in order with at most 3 separators between neighbours.
"""

from __future__ import annotations

import datetime
import re
import sys
import unicodedata

from hypothesis import assume, given
from hypothesis import strategies as st

from gateway.core.pin import masked, split_pin
from tests.fuzz.budget import examples

# Every character that is one decimal digit in some script (ASCII, Arabic-Indic, fullwidth, Devanagari, Thai,
# mathematical bold...), by value.
DIGITS = {d: [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Nd"
              and unicodedata.digit(chr(c)) == d] for d in range(10)}
SCRIPTS = [c for c in DIGITS[0] if unicodedata.name(c, "").endswith("ZERO")]  # the zeros: one per script


def read(text: str) -> str:
    """``text`` as digits (0-9), ``L`` for a letter or a number that is no digit, ``.`` for anything else."""
    out = []
    for char in text:
        form = unicodedata.normalize("NFKC", char)
        if not any(unicodedata.digit(c, None) is not None for c in form):
            form = char  # "ﹰ" is a letter, though NFKC turns it into a space and a mark
        for c in form:
            digit = unicodedata.digit(c, None)
            out.append(str(digit) if digit is not None else "L" if unicodedata.category(c)[0] in "LN" else ".")
    return "".join(out)


def survives(text: str, pin: str) -> bool:
    return re.search(r"\.{0,3}".join(pin), read(text)) is not None


def in_script(text: str, scripts: list[str]) -> str:
    """``text`` with its ASCII digits written in the scripts given by their zeros, cycled digit by digit."""
    out, n = [], 0
    for c in text:
        if "0" <= c <= "9":
            c, n = chr(ord(scripts[n % len(scripts)]) + int(c)), n + 1
        out.append(c)
    return "".join(out)


PIN = st.from_regex(r"[0-9]{4,8}", fullmatch=True)
SCRIPT_MIX = st.lists(st.sampled_from(SCRIPTS), min_size=1, max_size=3)
NOT_A_LETTER = st.characters(exclude_categories=("L", "N"))  # punctuation, symbols, spaces, marks, controls
GAP = st.text(NOT_A_LETTER, max_size=3)
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)


@st.composite
def spelled(draw, pin: str) -> str:
    """``pin`` with up to 3 non-letters between any two digits, each digit in any script."""
    digits = in_script(pin, draw(SCRIPT_MIX))
    return digits[0] + "".join(draw(GAP) + d for d in digits[1:])


@st.composite
def carrying(draw) -> tuple[str, str]:
    """A text that carries a PIN (its last word, as checked) and spells it again anywhere, any way."""
    pin = draw(PIN)
    copies = draw(st.lists(spelled(pin), max_size=3))
    parts = [draw(ANY_TEXT)]
    for copy in copies:
        parts += [copy, draw(ANY_TEXT)]
    last = in_script(pin, draw(SCRIPT_MIX)) + draw(st.text(st.sampled_from(".,;:!? "), max_size=3))
    return "".join(parts) + draw(st.sampled_from([" ", "\n", "\u00a0", "  "])) + last, pin


@examples(200)
@given(carrying())
def test_the_pin_a_text_carries_never_survives(case):
    """Rule 1: the PIN the text carries, wherever its digits stand again, whatever separates or surrounds them."""
    body, pin = case
    words, carried = split_pin(body)
    assert carried == pin
    assert not survives(masked(body, carried), pin)
    assert not survives(words, pin) or not survives(masked(words, carried), pin)


SEPARATORS = " \t()-./:+"  # what joins the groups of one number (README rule 2)
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")
_DATE = re.compile(r"([0-9]{1,4})([-./])([0-9]{1,2})\2([0-9]{1,4})")


def _valid(year: str, month: str, day: str) -> bool:
    try:
        return 1900 <= int(year) <= 2099 and bool(datetime.date(int(year), int(month), int(day)))
    except ValueError:
        return False


def readable(part: str) -> bool:
    """A clock time, or a date with its 4-digit year (README: kept readable)."""
    if _TIME.fullmatch(part):
        return True
    date = _DATE.fullmatch(part)
    if not date:
        return False
    a, _, b, c = date.groups()
    if len(a) == 4:
        return len(c) <= 2 and _valid(a, b, c)
    return len(a) <= 2 and len(c) == 4 and (_valid(c, b, a) or _valid(c, a, b))


def kept_shape(number: str) -> bool:
    """The shapes README keeps readable although they hold 4 to 8 digits: two plain numbers of at most 3 digits
    with only spaces between, and times and dates with their year, alone or side by side."""
    if re.fullmatch(r"[0-9]{1,3}[ \t]+[0-9]{1,3}", number):
        return True
    return all(readable(p) for p in re.split(r"[ \t()\-./:+]*[ \t][ \t()\-./:+]*", number))


NO_DIGIT = st.characters(exclude_categories=("Cs",)).filter(
    lambda c: not any(unicodedata.digit(x, None) is not None for x in unicodedata.normalize("NFKC", c)))
AROUND = st.text(NO_DIGIT, max_size=8)


@st.composite
def number(draw, pin: str, separators: st.SearchStrategy[str]) -> str:
    """``pin`` cut in groups joined by 1 to 3 separators, in ASCII digits."""
    cuts = sorted(draw(st.sets(st.integers(1, len(pin) - 1), max_size=len(pin) - 1)))
    groups = [pin[a:b] for a, b in zip([0, *cuts], [*cuts, len(pin)])]
    return groups[0] + "".join(draw(st.text(separators, min_size=1, max_size=3)) + g for g in groups[1:])


@examples(200)
@given(PIN, st.data())
def test_every_number_that_could_be_a_pin_is_masked(pin, data):
    """Rule 2, for a text that carries no PIN: any number of 4 digits or more in a shape README does not keep."""
    ascii_number = data.draw(number(pin, st.sampled_from(SEPARATORS)))
    assume(not kept_shape(ascii_number))
    body = data.draw(AROUND) + in_script(ascii_number, data.draw(SCRIPT_MIX)) + data.draw(AROUND)
    assert not survives(masked(body, split_pin(body)[1]), pin), body


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.from_regex(rf"[0-9]{{{n}}}", fullmatch=True)


@st.composite
def date(draw) -> str:
    day = draw(st.dates(datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)))
    sep = draw(st.sampled_from("-./"))
    pad = draw(st.booleans())
    d, m = (f"{day.day:02d}", f"{day.month:02d}") if pad else (str(day.day), str(day.month))
    return draw(st.sampled_from([f"{day.year}{sep}{m}{sep}{d}", f"{d}{sep}{m}{sep}{day.year}",
                                 f"{m}{sep}{d}{sep}{day.year}"]))


TIME = st.builds(lambda h, m, s, pad: (f"{h:02d}" if pad else str(h)) + f":{m:02d}" + (f":{s:02d}" if s is not None else ""),
                 st.integers(0, 23), st.integers(0, 59), st.none() | st.integers(0, 59), st.booleans())
GROUP_JOIN = st.text(st.sampled_from(" -.()/+"), min_size=1, max_size=3)  # no colon in a phone number


@st.composite
def phone(draw) -> str:
    """9 to 15 digits in groups of 2 to 4, the first two of which may be single digits, e.g. +33 6 12 34 56 78."""
    groups = draw(st.lists(st.integers(2, 4), min_size=2, max_size=7))
    groups = [draw(st.sampled_from([1, g])) if i < 2 else g for i, g in enumerate(groups)]
    assume(9 <= sum(groups) <= 15)
    text = "".join(draw(GROUP_JOIN) + draw(_digits(g)) for g in groups)[1:]
    return draw(st.sampled_from(["", "+", "("])) + text.lstrip(" -.()/+")


KEPT = st.one_of(
    st.integers(0, 999).map(str),  # fewer than 4 digits
    st.from_regex(r"[1-9][0-9]{8,14}", fullmatch=True), st.from_regex(r"\+[1-9][0-9]{8,14}", fullmatch=True),
    TIME, date(), st.builds(lambda d, t: f"{d} {t}", date(), TIME),
    st.builds(lambda a, gap, b: f"{a}{gap}{b}", st.integers(0, 999), st.text(st.sampled_from(" \t"), min_size=1,
                                                                              max_size=3), st.integers(0, 999)),
    phone(),
)
WORD = st.text(st.characters(categories=("L",)), min_size=1, max_size=6)


@examples(200)
@given(st.lists(st.tuples(WORD, KEPT), min_size=1, max_size=4), WORD, SCRIPT_MIX)
def test_what_cannot_be_a_pin_stays_readable(items, last, scripts):
    """Kept readable, when the text carries no PIN: short numbers, long single groups, phone numbers, clock
    times, dates with their year (alone or side by side) and two small numbers with spaces between."""
    ascii_text = " ".join(f"{word} {item}" for word, item in items) + f" {last}"
    assert masked(in_script(ascii_text, scripts)) == ascii_text


# The separators as other keyboards write them: no-break, thin and ideographic spaces, fullwidth ()-./:+ ...
WIDE_SEPARATORS = [c for c in map(chr, range(sys.maxunicode + 1))
                   if (unicodedata.category(c)[0] in "PSZ" or c == "\t") and unicodedata.normalize("NFKC", c) in set(SEPARATORS)]


@examples(150)
@given(PIN, st.data())
def test_a_number_is_a_number_whatever_keyboard_wrote_its_separators(pin, data):
    """Rule 2 "in any script": a fullwidth keyboard writes ７－３９１－８２６, a French one 7 391 826 (narrow no-break
    spaces); they are masked as 7-391-826 and 7 391 826 are."""
    ascii_number = data.draw(number(pin, st.sampled_from(SEPARATORS)))
    assume(not kept_shape(ascii_number))
    wide = "".join(data.draw(st.sampled_from([s for s in WIDE_SEPARATORS if unicodedata.normalize("NFKC", s) == c]))
                   if c in SEPARATORS else c for c in ascii_number)
    body = data.draw(AROUND) + in_script(wide, data.draw(SCRIPT_MIX)) + data.draw(AROUND)
    assert not survives(masked(body), pin), body


def test_fullwidth_and_no_break_separators_join_a_number():
    """Found by test_a_number_is_a_number_whatever_keyboard_wrote_its_separators: only the digits of other
    scripts became ASCII, so a PIN typed on a fullwidth keyboard, or grouped with no-break spaces, was stored."""
    assert masked("PIN ７－３９１－８２６") == "PIN ****"
    assert masked("PIN 7\u202f391\u202f826 ok") == "PIN **** ok"
    assert masked("７\u3000３\u3000９\u3000１") == "****"
    assert masked("at ２０：４５ on 15\u00a0January") == "at 20:45 on 15 January"  # still a time, still readable


def test_a_date_is_no_part_of_a_phone_number():
    """Read while writing ``phone()`` from README's words, which left this out: groups shaped like a phone
    number but holding a date are a date and a PIN, not a phone number."""
    assert masked("on 15.01.2026 1234") == "on ****" and masked("on 15.01.2026 55 12") == "on ****"
    assert masked("on 15.01.2026 at 12:34") == "on 15.01.2026 at 12:34"
