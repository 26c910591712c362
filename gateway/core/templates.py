"""Message templates with ``{name}`` placeholders, checked when the keyword file loads.

The syntax is :meth:`str.format`'s, restricted to plain names: no attribute or index
access, no conversions, no format specs. ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping

ALERT_PLACEHOLDERS: frozenset[str] = frozenset({
    "site_name", "site_id", "zone", "event_code", "event_text", "event_id", "time", "date",
    "first_name", "last_name", "contact_name", "timeout_minutes", "central_station",
})
"""Placeholders of an auto process's verification text and of its keyword replies."""

DISPATCH_PLACEHOLDERS: frozenset[str] = ALERT_PLACEHOLDERS
"""Placeholders of a dispatch template, besides the names in its own ``variables`` list."""

REF_PLACEHOLDERS: frozenset[str] = frozenset({"ref"})
"""Besides ALERT_PLACEHOLDERS in a verification text: the reply reference while several alarms are open."""

ANSWER_PLACEHOLDERS: frozenset[str] = frozenset({"ref", "answered"})
"""Besides ALERT_PLACEHOLDERS in a keyword reply: the reference, and the site and alarm the reply answered."""
REPLY_PLACEHOLDERS: frozenset[str] = frozenset({"central_station"})
"""Placeholders of the catch-all replies (unknown sender, known sender)."""

_FORMATTER = string.Formatter()


@functools.lru_cache(maxsize=512)  # a few dozen templates, rendered per text: parsed once (a malformed one is not kept)
def _fields(template: str) -> tuple[tuple[str, str | None], ...]:
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise ValueError(f"malformed template: {exc} (write {{{{ and }}}} for literal braces)") from None
    out = []
    for literal, name, spec, conversion in parsed:
        if name is not None:
            if not name.isidentifier():
                raise ValueError(f"malformed placeholder {{{name}}}: use a plain name like {{site_name}}")
            if spec or conversion:
                raise ValueError(f"placeholder {{{name}}} may not have a format or conversion")
        out.append((literal, name))
    return tuple(out)


def placeholders(template: str) -> set[str]:
    """The placeholder names used in ``template``; ValueError when it is malformed."""
    return {name for _, name in _fields(template) if name is not None}


def render(template: str, values: Mapping[str, object]) -> str:
    """``template`` with each placeholder replaced by ``str(values[name])``.

    A missing name or a ``None`` value renders as the empty string: a text goes out
    even when, say, a contact has no last name. ValueError when the template is malformed.
    """
    parts = []
    for literal, name in _fields(template):
        parts.append(literal)
        if name is not None:
            value = values.get(name)
            parts.append("" if value is None else str(value))
    return "".join(parts)


def unknown_placeholders(template: str, allowed: frozenset[str] | set[str]) -> list[str]:
    """The placeholders of ``template`` that are not in ``allowed``, sorted."""
    return sorted(placeholders(template) - set(allowed))
