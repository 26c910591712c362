"""How many SMS segments a text costs, counted the way carriers (and Twilio) count them.

GSM-7 texts take 160 septets in one segment or 153 per part when concatenated, an
extension-table character costing two septets; any other character forces UCS-2, 70 code
units alone or 67 per part. A character (an escape pair, a surrogate pair) is never
split across parts.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _pack(costs: list[int], single: int, part: int) -> int:
    total = sum(costs)
    if total <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments += 1
            used = 0
        used += cost
    return segments


def count(text: str) -> SegmentCount:
    """The encoding, size and segment count of ``text``."""
    if is_gsm7(text):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return SegmentCount("GSM-7", sum(costs), _pack(costs, 160, 153))
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SegmentCount("UCS-2", sum(costs), _pack(costs, 70, 67))
