"""Segment counting (gateway/core/segments.py) against a reference built here from 3GPP TS 23.038 (GSM 03.38)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.core.segments import count
from tests.fuzz.budget import examples

# The GSM 7-bit default alphabet, by code point 0x00..0x7F (0x1B is the escape to the extension table).
BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The default extension table: each is sent as ESC + its code, two septets.
EXTENSION_TABLE = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
                   0x40: "|", 0x65: "€"}
ESC = 0x1B
assert len(BASIC_TABLE) == 128


def gsm7_septets(text: str) -> list[tuple[int, ...]] | None:
    """Each character as the septets it is sent as, or None when one is not in the GSM alphabet."""
    extension = {char: code for code, char in EXTENSION_TABLE.items()}
    out = []
    for char in text:
        if char in extension:
            out.append((ESC, extension[char]))
        elif char in BASIC_TABLE and char != "\x1b":
            out.append((BASIC_TABLE.index(char),))
        else:
            return None
    return out


def utf16_units(text: str) -> list[tuple[int, ...]]:
    """Each character as its UTF-16 code units: two (a surrogate pair) beyond U+FFFF."""
    out = []
    for char in text:
        data = char.encode("utf-16-be", "surrogatepass")
        out.append(tuple(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)))
    return out


def segments(chars: list[tuple[int, ...]], single: int, part: int) -> int:
    """A message fits one SMS of ``single`` units, else parts of ``part`` units each (the rest is the
    concatenation header), and a character's units are never split between two parts."""
    units = [u for c in chars for u in c]
    if len(units) <= single:
        return 1
    parts, current = [], []
    for char in chars:
        if len(current) + len(char) > part:
            parts.append(current)
            current = []
        current.extend(char)
    parts.append(current)
    assert all(len(p) <= part for p in parts) and [u for p in parts for u in p] == units
    return len(parts)


def reference(text: str) -> tuple[str, int, int]:
    septets = gsm7_septets(text)
    if septets is not None:
        return "GSM-7", sum(map(len, septets)), segments(septets, 160, 153)
    units = utf16_units(text)
    return "UCS-2", sum(map(len, units)), segments(units, 70, 67)


GSM_CHARS = st.sampled_from(sorted(set(BASIC_TABLE) - {"\x1b"} | set(EXTENSION_TABLE.values())))
EXTENSION_HEAVY = st.sampled_from(["a", "€", "{", "]", "\f"])
WIDE = st.sampled_from(["😀", "𝄞", "中", "é", "a", "€"])  # astral (a surrogate pair), BMP, GSM characters
ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates too: one UTF-16 unit each
LENGTHS = dict(min_size=0, max_size=480)
TEXTS = st.one_of(st.text(GSM_CHARS, **LENGTHS), st.text(EXTENSION_HEAVY, **LENGTHS), st.text(WIDE, max_size=220),
                  st.text(ANY_CHAR, max_size=220))


@examples(200)
@given(TEXTS)
def test_segments_match_the_reference(text):
    got = count(text)
    assert (got.encoding, got.units, got.segments) == reference(text)


@examples(100)
@given(st.integers(0, 400), st.integers(0, 400), st.sampled_from(["a", "€", "é", "😀"]))
def test_the_boundaries(n, m, char):
    """The limits themselves: 160/153 septets, 70/67 UCS-2 units, with a filler that costs 1 or 2 units."""
    text = "a" * n + char * (m % 90)
    assert (count(text).encoding, count(text).units, count(text).segments) == reference(text)


def test_known_counts():
    assert count("a" * 160).segments == 1 and count("a" * 161).segments == 2 and count("a" * 306).segments == 2
    assert count("a" * 307).segments == 3
    assert count("€" * 80).units == 160 and count("€" * 80).segments == 1
    assert count("a" * 152 + "€" + "a" * 152).segments == 3  # 306 septets, but the escape pair is not split
    assert count("é" * 70).segments == 1 and count("中" * 71).segments == 2 and count("中" * 134).segments == 2
    assert count("a" * 66 + "😀" + "中" * 4).segments == 2  # 72 units: the pair moves whole into part 2
