"""msgspec's validation errors as :class:`Problem` s on the line of the key they name."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from gateway.config.yamlsource import LineMap, Path_, Problem

_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.S)
_PART = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[['\"]?([^\]]*?)['\"]?\]")


def validation_problem(error: msgspec.ValidationError, lines: LineMap, root: type) -> Problem:
    """msgspec's error (``... - at `$.http.port```) as a :class:`Problem` on the line of that key."""
    match = _AT.match(str(error))
    message, path = match["message"], _path(match["path"] or "$")
    unknown = re.match(r"Object contains unknown field `(.+)`", message)
    if unknown:
        path = (*path, unknown[1])
        info = _type_at(root, path[:-1])
        allowed = [f.name for f in info.fields] if isinstance(info, msgspec.inspect.StructType) else []
        message = "unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    missing = re.match(r"Object missing required field `(.+)`", message)
    if missing:
        message = f"missing required key {missing[1]!r}"
    if message.startswith("Invalid enum value") and isinstance(info := _type_at(root, path), msgspec.inspect.LiteralType):
        message += f" (allowed: {', '.join(map(str, info.values))})"
    message = message.replace("`", "").replace("object", "a mapping").replace("array", "a list")
    return lines.problem(path, message[:1].lower() + message[1:])


def _path(text: str) -> Path_:
    return tuple(m[1] or (int(m[2]) if m[2] else m[3]) for m in _PART.finditer(text[1:]))


def _type_at(root: type, path: Path_) -> Any:
    info: Any = msgspec.inspect.type_info(root)
    for part in path:
        if isinstance(part, int):
            info = getattr(info, "item_type", None)
        else:
            info = next((f.type for f in getattr(info, "fields", ()) if f.name == part), None)
    return info
