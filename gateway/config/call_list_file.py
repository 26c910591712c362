"""The ``escalation`` and ``urgent`` keys of a keywords.yaml auto process, read into a :class:`CallList`
(the schema is in the README, "Call lists"), and the checks ``gateway check`` adds for the carrier and push
backend the config names."""

from __future__ import annotations

import os
import re
from typing import Any

from gateway.config.yamlsource import Checker, Path_, load_yaml, type_name
from gateway.model import CallList, CallStep

METHODS = ("sms", "email", "call", "push")
MODES = ("all", "in_order")
CODE = re.compile(r"[A-Za-z0-9_]{1,16}")
CODE_HINT = "an event code is 1 to 16 letters, digits or _"
CALL_LIST_CODES = {"step": "SMSSTEP", "skipped": "SMSSKIP", "held": "SMSQUIET"}


def _flag(check: Checker, m: dict, path: Path_, key: str, default: bool) -> bool:
    value = m.get(key, default)
    if not isinstance(value, bool):
        check.add((*path, key), f"expected true or false, got {type_name(value)}")
        return default
    return value


def read_call_list(check: Checker, m: dict, path: Path_, timeout_seconds: int, codes: dict) -> CallList:
    """The process's call list from its ``escalation``, ``urgent`` and ``codes`` (step, skipped, held)."""
    code = {k: check.string(codes, (*path, "codes"), k, default, pattern=CODE, hint=CODE_HINT)
            for k, default in CALL_LIST_CODES.items()}
    urgent = _flag(check, m, path, "urgent", True)
    base = CallList(urgent=urgent, timeout_seconds=timeout_seconds, step_code=code["step"],
                    skip_code=code["skipped"], held_code=code["held"])
    if "escalation" not in m:
        return base
    at = (*path, "escalation")
    e = check.mapping(m["escalation"], at, (), ("mode", "step_seconds", "steps"))
    if e is None:
        return base
    mode = check.string(e, at, "mode", "all")
    if mode not in MODES:
        check.add((*at, "mode"), f"{mode!r} is not one of {', '.join(MODES)}")
    step_seconds = check.integer(e, at, "step_seconds", 60, 10, 3600)
    raw = e.get("steps", [{"methods": ["sms"]}])
    if not isinstance(raw, list) or not raw:
        check.add((*at, "steps"), "expected a list of at least one step, e.g. [{methods: [sms]}]")
        return base
    steps = tuple(s for j, item in enumerate(raw) if (s := _step(check, item, (*at, "steps", j), j == len(raw) - 1)))
    if mode == "all" and len(raw) > 1:
        check.add((*at, "steps"), "mode all reaches everyone with the first step; more steps need mode in_order")
    if len(steps) != len(raw) or mode not in MODES:
        return base
    return CallList(mode=mode, step_seconds=step_seconds, steps=steps, urgent=urgent, timeout_seconds=timeout_seconds,
                    step_code=code["step"], skip_code=code["skipped"], held_code=code["held"])


def _step(check: Checker, item: Any, path: Path_, last: bool) -> CallStep | None:
    s = check.mapping(item, path, ("methods",), ("code", "everyone_left"))
    if s is None:
        return None
    before = len(check.problems)
    methods = check.strings(s, path, "methods")
    if "methods" in s and not methods:
        check.add((*path, "methods"), f"a step names no methods: name one or more of {', '.join(METHODS)}")
    for where, method in methods:
        if method not in METHODS:
            check.add(where, f"{method!r} is not a method (have: {', '.join(METHODS)})")
    if len({m for _, m in methods}) != len(methods):
        check.add((*path, "methods"), "a method is named twice")
    code = check.string(s, path, "code", None, pattern=CODE, hint=CODE_HINT)
    everyone = _flag(check, s, path, "everyone_left", False)
    if everyone and not last:
        check.add((*path, "everyone_left"), "only the last step may reach everyone left")
    if len(check.problems) > before:
        return None
    return CallStep(methods=tuple(m for _, m in methods), code=code, everyone_left=everyone)


def push_ready(config: object) -> bool:
    """Whether the config names a push backend (``push.backend``, which makes or reads its VAPID key)."""
    return getattr(getattr(config, "push", None), "backend", "none") not in (None, "none")


def channel_problems(path: str | os.PathLike[str], *, places_calls: bool, push_ready: bool,
                     email_ready: bool) -> tuple[list[str], list[str]]:
    """``file:line: key: message`` problems for each step naming call when the carrier cannot place calls, or push
    with no push backend (``push.backend`` with its VAPID key); warnings for an email step with no email backend
    (those emails fail and the list moves on). Call it only for a keyword file that loads."""
    filename = os.fspath(path)
    with open(filename, encoding="utf-8") as f:
        data, lines = load_yaml(f.read(), filename)
    problems, warnings = [], []
    for i, process in enumerate((data or {}).get("auto_processes") or []):
        for j, step in enumerate(((process.get("escalation") or {}).get("steps")) or []):
            for k, method in enumerate(step.get("methods") or []):
                key = ("auto_processes", i, "escalation", "steps", j, "methods", k)
                if method == "call" and not places_calls:
                    problems.append(str(lines.problem(key, "a call step, but carrier.backend cannot place calls")))
                if method == "push" and not push_ready:
                    problems.append(str(lines.problem(key, "a push step, but no push backend with a VAPID key "
                                                           "is configured (push.backend)")))
                if method == "email" and not email_ready:
                    warnings.append(str(lines.problem(key, "an email step, but email.backend is none: its emails "
                                                           "will fail")))
    return problems, warnings
