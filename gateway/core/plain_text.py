"""The rule for text an operator or a phone will read (names, external ids, messages), for every way in.

Control characters (NUL, C0, DEL, C1) are refused: a NUL cuts the text short in C libraries and log
viewers, an ESC or CSI starts a terminal escape in ``gateway contact list``. Bidi embeddings, overrides
and isolates (U+202A-U+202E, U+2066-U+2069) make text show in another order than it is stored (a name
with U+202E reads backwards in the console and on the phone): they are taken out of free text, where
they carry no meaning of their own, and refused in identifiers, which must come back as sent.
"""

from __future__ import annotations

import re

from gateway.errors import ValidationFailed

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab, LF and CR allowed
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _refuse(pattern: re.Pattern[str], value: str, field: str, what: str) -> None:
    found = pattern.search(value)
    if found:
        raise ValidationFailed(f"{field} must not contain {what} (found U+{ord(found.group()):04X}).", field=field)


def clean(value: str | None, field: str, *, lines: bool = False, required: bool = False) -> str | None:
    """``value`` fit to show: bidi controls taken out, surrounding space stripped; None for nothing.

    422 naming ``field`` for a control character (tab and line breaks are allowed with ``lines``, for
    message text) and, when ``required``, for a value that is blank.
    """
    if value is not None:
        _refuse(_CONTROL_BUT_LINES if lines else _CONTROL, value, field, "control characters")
        value = _BIDI.sub("", value).strip()
    if required and not value:
        raise ValidationFailed(f"{field} must not be blank.", field=field)
    return value or None


def identifier(value: str | None, field: str, *, required: bool = False) -> str | None:
    """``value`` with surrounding space stripped, else as given; None for nothing.

    422 naming ``field`` for a control or bidi character and, when ``required``, for a blank value.
    """
    if value is not None:
        _refuse(_BIDI, value, field, "bidi control characters")
    return clean(value, field, required=required)
