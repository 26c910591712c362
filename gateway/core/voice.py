"""What a verification call says and what a key pressed (or a word spoken) on it means. Pure: no I/O.

A call reads the process's ``call_template`` (by default its SMS template without the sentences that
ask for a text back), then the choices: 1 for the process's confirm keyword, 2 for its cancel keyword,
9 to hear it again. A spoken answer is matched against the process's keywords and aliases (so "yes"
confirms where YES is the confirm keyword), else a plain yes or no.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gateway.core.keywords import AutoProcess, Keyword, fold
from gateway.errors import ValidationFailed

DIGITS = {"1": "confirm", "2": "cancel"}
REPEAT = "9"
SPOKEN = {"YES": "confirm", "YEAH": "confirm", "CONFIRM": "confirm", "NO": "cancel", "CANCEL": "cancel"}
_SENTENCE = re.compile(r"[^.!?]*[.!?]*\s*")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$")
_TEXT_BACK = re.compile(r"\b(reply|text|sms)\b", re.IGNORECASE)
UNANSWERED = ("busy", "no-answer", "failed", "canceled", "machine", "no-input")
SAYS = {"busy": "The line was busy.", "no-answer": "Nobody answered.", "failed": "The call could not be placed.",
        "canceled": "The call was canceled.", "machine": "An answering machine answered.",
        "no-input": "Nothing was pressed or said."}


def call_template(process: AutoProcess) -> str:
    """The process's ``call_template``, else its SMS template without the sentences that ask for a reply by text."""
    if process.call_template:
        return process.call_template
    kept = [s for s in _SENTENCE.findall(process.template) if s.strip() and not _TEXT_BACK.search(s)]
    return "".join(kept).strip() or process.template


def choices(process: AutoProcess | None) -> str:
    """The sentence that tells the person what to press (only the outcomes the process has a keyword for)."""
    outcomes = {k.outcome for k in process.keywords} if process else set(DIGITS.values())
    parts = [f"press {digit} to {outcome} the alarm" for digit, outcome in DIGITS.items() if outcome in outcomes]
    parts.append(f"press {REPEAT} to hear this again")
    text = ", ".join(parts)
    return text[0].upper() + text[1:] + "."


@dataclass(frozen=True)
class Choice:
    """What a press or an utterance on a call asks for."""

    action: Literal["answer", "repeat", "unknown"]
    keyword: Keyword | None = None


def choice(process: AutoProcess | None, digits: str | None, speech: str | None) -> Choice:
    """The keyword a press (1, 2) or spoken answer names, a repeat (9), or unknown."""
    digits = (digits or "").strip()
    if digits == REPEAT:
        return Choice("repeat")
    outcome = DIGITS.get(digits)
    if outcome is None and speech:
        matched = process.match(speech) if process else None
        if matched is not None and matched.outcome in DIGITS.values():
            return Choice("answer", matched)
        outcome = SPOKEN.get(fold(speech).split(" ")[0]) if fold(speech) else None
    keyword = next((k for k in process.keywords if k.outcome == outcome), None) if process and outcome else None
    return Choice("answer", keyword) if keyword is not None else Choice("unknown")


def unanswered_reason(result: str) -> str:
    """The recipient's error for a call that ended with ``result`` (busy, no-answer, failed, canceled, machine)."""
    return f"call {result}: {SAYS.get(result, 'The call ended without an answer.')}"


def language_tag(value: str, field: str = "language") -> str:
    """A BCP 47 language tag as voices name them (``en-US``, ``es-MX``, ``fr``); 422 naming ``field`` otherwise."""
    tag = value.strip()
    if not _LANGUAGE.fullmatch(tag):
        raise ValidationFailed(f"{field} {value!r} is not a BCP 47 language tag like en-US.", field=field)
    primary, *rest = tag.split("-")
    return "-".join([primary.lower(), *(p.upper() if len(p) == 2 else p for p in rest)])
