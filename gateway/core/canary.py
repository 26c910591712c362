"""The canary's text: a token only the gateway writes, so the text is known again when it comes back in."""

from __future__ import annotations

import re
import secrets

_TOKEN = re.compile(r"\[canary ([0-9a-f]{16})\]")  # searched, not anchored: trial accounts prefix a line


def new_token() -> str:
    return secrets.token_hex(8)


def canary_text(token: str) -> str:
    return f"[canary {token}] alarm-sms-gateway end-to-end check; no reply needed."


def canary_token(body: str) -> str | None:
    """The token of a canary text, None for any other text."""
    found = _TOKEN.search(body)
    return found.group(1) if found else None
