"""SMS segments counted as carriers count them: GSM-7 and UCS-2, single and concatenated."""

from __future__ import annotations

import pytest

from gateway.core.segments import count


@pytest.mark.parametrize("text, encoding, segments", [
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),  # extension characters cost two septets
    ("€" * 81, "GSM-7", 2),
    ("a" * 152 + "€" + "a" * 8, "GSM-7", 2),  # the escape pair is not split: 152 + (2 + 8)
    ("é" * 160, "GSM-7", 1),
    ("ç" * 70, "UCS-2", 1),  # ç is not GSM-7 (only Ç is)
    ("ç" * 71, "UCS-2", 2),
    ("😀" * 35, "UCS-2", 1),
    ("😀" * 36, "UCS-2", 2),
    ("a" * 66 + "😀", "UCS-2", 1),
    ("a" * 68 + "😀", "UCS-2", 1),
    ("a" * 69 + "😀", "UCS-2", 2),
    ("a" * 66 + "😀" + "a" * 66 + "😀", "UCS-2", 3),  # 68 + 68 units: neither pair may straddle a part
])
def test_segments(text, encoding, segments):
    result = count(text)
    assert (result.encoding, result.segments) == (encoding, segments)
