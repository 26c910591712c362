"""Reading ``keywords.yaml`` into a :class:`KeywordTable`, reporting every problem at once as
``file:line: key: message`` (the schema is in the README, "The keyword file")."""

from __future__ import annotations

import os
import re
from typing import Any

from gateway.config.call_list_file import CALL_LIST_CODES, read_call_list
from gateway.config.yamlsource import Checker, InvalidFile, Path_, Problem, YamlSyntaxError, dotted, load_yaml, type_name
from gateway.core.keywords import OUTCOMES, AutoProcess, CatchAll, DispatchTemplate, Keyword, KeywordTable, fold
from gateway.core.templates import (
    ALERT_PLACEHOLDERS, ANSWER_PLACEHOLDERS, DISPATCH_PLACEHOLDERS, REF_PLACEHOLDERS, REPLY_PLACEHOLDERS, unknown_placeholders,
)

CODE = re.compile(r"[A-Za-z0-9_]{1,16}")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CODE_HINT = "an event code is 1 to 16 letters, digits or _"
_PROCESS_CODES = ("sent", "response", "pin_response", "expired")
_NAME_HINT = "a name is letters, digits, '.', '_' or '-', starting with a letter or digit"


class KeywordFileError(InvalidFile):
    """The keyword file is invalid."""


def load_keyword_table(path: str | os.PathLike[str]) -> KeywordTable:
    """Read and check the keyword file at ``path``; :class:`KeywordFileError` lists every problem."""
    filename = os.fspath(path)
    try:
        with open(filename, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise KeywordFileError([Problem(filename, 0, "", f"cannot read the keyword file: {exc.strerror}")]) from None
    return parse_keyword_table(text, filename)


def parse_keyword_table(text: str, filename: str = "<keywords>") -> KeywordTable:
    """Check and build a :class:`KeywordTable` from YAML text; the file name is for messages."""
    try:
        data, lines = load_yaml(text, filename)
    except YamlSyntaxError as exc:
        raise KeywordFileError(exc.problems) from None
    check = Checker(lines)
    table = _Reader(check).table(data, filename)
    if check.problems:
        raise KeywordFileError(sorted(check.problems, key=lambda p: p.line))
    return table


class _Reader:
    def __init__(self, check: Checker) -> None:
        self.check = check

    def table(self, data: Any, filename: str) -> KeywordTable:
        top = self.check.mapping(data, (), (), ("central_station", "auto_processes", "dispatch_templates",
                                                "unknown_sender", "known_sender")) or {}
        raw_processes, raw_templates = self._list(top, "auto_processes"), self._list(top, "dispatch_templates")
        processes = [p for i, item in enumerate(raw_processes) if (p := self.process(item, i))]
        templates = [t for i, item in enumerate(raw_templates) if (t := self.dispatch(item, i))]
        self._unique("auto_processes", raw_processes, "auto process")
        self._unique("dispatch_templates", raw_templates, "dispatch template")
        return KeywordTable(
            processes=tuple(processes),
            dispatch_templates={t.name: t for t in templates},
            unknown_sender=self.catch_all(top, "unknown_sender", "SMSUNKNOWN"),
            known_sender=self.catch_all(top, "known_sender", "SMSIN"),
            central_station=self.check.string(top, (), "central_station", "", nullable=True) or "",
            source=filename,
        )

    def _list(self, m: dict, key: str, path: Path_ = ()) -> list:
        items = m.get(key) or []
        if not isinstance(items, list):
            self.check.add((*path, key), f"expected a list, got {type_name(items)}")
            return []
        return items

    def _unique(self, key: str, items: list, what: str) -> None:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name in seen:
                first = self.check.lines.line((key, seen[name], "name"))
                self.check.add((key, i, "name"), f"duplicate {what} name {name!r} (first at line {first})")
            elif isinstance(name, str):
                seen[name] = i

    def _template(self, path: Path_, template: str | None, allowed: frozenset[str]) -> None:
        if template is None:
            return
        try:
            unknown = unknown_placeholders(template, allowed)
        except ValueError as exc:
            self.check.add(path, str(exc))
            return
        for name in unknown:
            self.check.add(path, f"unknown placeholder {{{name}}} (allowed: {', '.join(sorted(allowed))})")

    def process(self, item: Any, i: int) -> AutoProcess | None:
        path: Path_ = ("auto_processes", i)
        c = self.check
        m = c.mapping(item, path, ("name", "triggers", "template", "timeout_seconds", "codes"),
                      ("keywords", "escalation", "urgent", "call_template"))
        if m is None:
            return None
        before = len(c.problems)
        name = c.string(m, path, "name", pattern=NAME, hint=_NAME_HINT)
        triggers = c.strings(m, path, "triggers", pattern=CODE, hint=_CODE_HINT)
        if "triggers" in m and not triggers and not isinstance(m["triggers"], str) and not m["triggers"]:
            c.add((*path, "triggers"), "at least one alarm event code is required")
        template = c.string(m, path, "template")
        self._template((*path, "template"), template, ALERT_PLACEHOLDERS | REF_PLACEHOLDERS)
        timeout = c.integer(m, path, "timeout_seconds", 300, 10, 86400)
        call_template = c.string(m, path, "call_template", nullable=True)
        self._template((*path, "call_template"), call_template, ALERT_PLACEHOLDERS)
        at = (*path, "codes")
        codes = (c.mapping(m["codes"], at, _PROCESS_CODES, tuple(CALL_LIST_CODES)) or {}) if "codes" in m else {}
        code = {k: c.string(codes, at, k, pattern=CODE, hint=_CODE_HINT) for k in _PROCESS_CODES}
        call_list = read_call_list(c, m, path, timeout, codes)
        seen: dict[str, Path_] = {}
        keywords = [k for j, kw in enumerate(self._list(m, "keywords", path))
                    if (k := self.keyword(kw, (*path, "keywords", j), seen))]
        if len(c.problems) > before:
            return None
        return AutoProcess(name, frozenset(t.upper() for _, t in triggers), template, timeout, code["sent"],
                              code["response"], code["pin_response"], code["expired"], tuple(keywords), call_list,
                              call_template=call_template)

    def keyword(self, item: Any, path: Path_, seen: dict[str, Path_]) -> Keyword | None:
        c = self.check
        m = c.mapping(item, path, ("keyword", "code"), ("aliases", "reply", "outcome"))
        if m is None:
            return None
        word = c.string(m, path, "keyword")
        aliases = c.strings(m, path, "aliases")
        for where, text in ([((*path, "keyword"), word)] if word is not None else []) + aliases:
            folded = fold(text)
            if not folded:
                c.add(where, "a keyword or alias may not be empty")
            elif folded in seen:
                first = seen[folded]
                c.add(where, f"{text!r} is already a keyword or alias of this process at line "
                             f"{c.lines.line(first)} ({dotted(first)})")
            else:
                seen[folded] = where
        reply = c.string(m, path, "reply", nullable=True)
        self._template((*path, "reply"), reply, ALERT_PLACEHOLDERS | ANSWER_PLACEHOLDERS)
        outcome = c.string(m, path, "outcome", "none")
        if outcome not in OUTCOMES:
            c.add((*path, "outcome"), f"{outcome!r} is not one of {', '.join(OUTCOMES)}")
        code = c.string(m, path, "code", pattern=CODE, hint=_CODE_HINT)
        if word is None or code is None:
            return None
        return Keyword(word, tuple(a for _, a in aliases), code, reply, outcome)

    def dispatch(self, item: Any, i: int) -> DispatchTemplate | None:
        path: Path_ = ("dispatch_templates", i)
        c = self.check
        m = c.mapping(item, path, ("name", "code", "text"), ("variables", "reply_window_minutes"))
        if m is None:
            return None
        before = len(c.problems)
        name = c.string(m, path, "name", pattern=NAME, hint=_NAME_HINT)
        code = c.string(m, path, "code", pattern=CODE, hint=_CODE_HINT)
        variables = c.strings(m, path, "variables")
        for where, var in variables:
            if not var.isidentifier():
                c.add(where, f"{var!r} is not a placeholder name (letters, digits and _)")
            elif var in DISPATCH_PLACEHOLDERS:
                c.add(where, f"{var!r} is already a built-in placeholder")
        text = c.string(m, path, "text")
        self._template((*path, "text"), text, DISPATCH_PLACEHOLDERS | {v for _, v in variables})
        window = c.integer(m, path, "reply_window_minutes", 60, 1, 10080)
        if len(c.problems) > before:
            return None
        return DispatchTemplate(name, code, text, tuple(v for _, v in variables), window)

    def catch_all(self, top: dict, key: str, default_code: str) -> CatchAll:
        if key not in top:
            return CatchAll(default_code, None)
        m = self.check.mapping(top[key], (key,), ("code",), ("reply",)) or {}
        reply = self.check.string(m, (key,), "reply", nullable=True)
        self._template((key, "reply"), reply, REPLY_PLACEHOLDERS)
        return CatchAll(self.check.string(m, (key,), "code", default_code, pattern=CODE, hint=_CODE_HINT), reply)
