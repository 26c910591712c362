"""The keyword table: auto processes, their keyword replies, dispatch templates, and matching a reply.

Types and matching only; gateway/config/keyword_file.py reads ``keywords.yaml`` into them (its schema is in
the README, "The keyword file").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from gateway.model import CallList

OUTCOMES = ("confirm", "cancel", "help", "none")


def fold(text: str) -> str:
    """``text`` as keywords compare it: ``" Yes! "`` and ``"yes"`` both give ``"YES"``.

    Unicode-normalised, case-folded, stripped of surrounding whitespace and punctuation
    (anything not a letter or digit), inner whitespace collapsed, upper case. The marks
    after a letter are part of it (Hindi ``"हाँ"`` keeps its vowel signs, so it is not ``"है"``).
    A text of nothing but punctuation keeps it, so ``"?"`` can be a keyword.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start:
        base = end - 1
        while base > start and unicodedata.category(text[base]).startswith("M"):
            base -= 1
        if text[base].isalnum():
            break
        end = base
    # Upper-casing can leave a letter decomposed ("ΐ" -> "Ϊ́" as three code points): normalise again.
    return unicodedata.normalize("NFKC", " ".join((text[start:end] if start < end else text).split()).upper())


@dataclass(frozen=True, slots=True)
class Keyword:
    """A reply word of an auto process: its aliases, the code it logs, the reply it sends."""

    word: str
    aliases: tuple[str, ...]
    code: str
    reply: str | None
    outcome: str


@dataclass(frozen=True, slots=True)
class AutoProcess:
    """A verification text sent for matching alarm events, and the keywords it understands."""

    name: str
    triggers: frozenset[str]
    template: str
    timeout_seconds: int
    sent_code: str
    response_code: str
    pin_response_code: str
    expired_code: str
    keywords: tuple[Keyword, ...]
    call_list: CallList = CallList()  # keywords.yaml's escalation and urgent
    call_template: str | None = None  # what a verification call says; None: derived from ``template``
    _lookup: dict[str, Keyword] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup = {}
        for keyword in self.keywords:
            for word in (keyword.word, *keyword.aliases):
                lookup.setdefault(fold(word), keyword)
        object.__setattr__(self, "_lookup", lookup)

    def match(self, text: str) -> Keyword | None:
        """The keyword ``text`` is (after :func:`fold`), or None."""
        return self._lookup.get(fold(text))


@dataclass(frozen=True, slots=True)
class DispatchTemplate:
    """A text operators send by hand; ``variables`` are the placeholders they fill in."""

    name: str
    code: str
    text: str
    variables: tuple[str, ...]
    reply_window_minutes: int


@dataclass(frozen=True, slots=True)
class CatchAll:
    """What an inbound text that matches nothing logs, and the reply it gets (None: no reply)."""

    code: str
    reply: str | None


@dataclass(frozen=True, slots=True)
class KeywordTable:
    """Everything ``keywords.yaml`` holds, ready for lookups."""

    processes: tuple[AutoProcess, ...]
    dispatch_templates: dict[str, DispatchTemplate]
    unknown_sender: CatchAll
    known_sender: CatchAll
    central_station: str
    source: str
    _by_trigger: dict[str, tuple[AutoProcess, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[AutoProcess]] = {}
        for process in self.processes:
            for trigger in sorted(process.triggers):
                index.setdefault(trigger, []).append(process)
        object.__setattr__(self, "_by_trigger", {k: tuple(v) for k, v in index.items()})

    def processes_for(self, event_code: str) -> tuple[AutoProcess, ...]:
        """The auto processes an alarm event with ``event_code`` starts (any case), in file order."""
        return self._by_trigger.get(event_code.strip().upper(), ())

    def process(self, name: str) -> AutoProcess | None:
        """The auto process called ``name``, or None."""
        return next((p for p in self.processes if p.name == name), None)
