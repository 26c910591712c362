"""YAML files read for people: plain values plus the line every value came from.

Configuration and keyword files are edited by hand, so every problem found in them is
reported as ``file:line: key: message``. :func:`load_yaml` builds ordinary dicts, lists
and scalars from PyYAML's safe node graph and remembers, for every path into the value,
the line it was written on; :class:`Checker` collects problems against those lines. (The loader and the
checker share the line map, so they stay in one module of a little over 250 lines.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from gateway.errors import ConfigurationError

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file: where it is (file, 1-based line, dotted key) and what."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class InvalidFile(ConfigurationError):
    """The file is invalid."""

    def __init__(self, problems: list[Problem], message: str | None = None) -> None:
        self.problems = list(problems)
        text = message or (type(self).__doc__ or "").strip()
        super().__init__("\n".join([text, *(str(p) for p in self.problems)]), problems=[str(p) for p in problems])


class YamlSyntaxError(InvalidFile):
    """The file is not valid YAML."""


def dotted(path: Path_) -> str:
    """``("a", 0, "b")`` as ``a[0].b``, the way problems name keys."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(slots=True)
class LineMap:
    """The line each path of a loaded YAML value was written on."""

    filename: str
    lines: dict[Path_, int] = field(default_factory=dict)
    texts: dict[Path_, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path_) -> int:
        """The 1-based line of ``path``, else of its nearest recorded ancestor (1 at worst)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def text(self, path: Path_) -> str | None:
        """The source text of a plain (unquoted) scalar, e.g. ``YES`` that YAML read as true."""
        return self.texts.get(tuple(path))

    def problem(self, path: Path_, message: str, line: int | None = None) -> Problem:
        """A :class:`Problem` located at ``path`` in this file."""
        return Problem(self.filename, line or self.line(path), dotted(path), message)


MAX_VALUES = 100_000  # far beyond any real file; aliases of aliases can otherwise expand without end
# What PyYAML's constructors raise on a scalar its tag cannot read: "!!int abc" ValueError, "!!bool maybe"
# KeyError, "!!int ''" IndexError, "!!timestamp x" AttributeError, "!foo x" ConstructorError.
_UNREADABLE = (yaml.YAMLError, ValueError, TypeError, LookupError, AttributeError, ArithmeticError)


class _TooLarge(Exception):
    pass


_UNREAD = object()


class _Builder(yaml.constructor.SafeConstructor):
    def __init__(self, lines: LineMap) -> None:
        super().__init__()
        self.map = lines
        self.open: set[int] = set()  # the collections being built, to refuse one inside itself (&a [*a])
        self.built = 0

    def build(self, node: yaml.Node, path: Path_, line: int | None = None) -> Any:
        self.map.lines.setdefault(path, line or node.start_mark.line + 1)
        self.built += 1
        if self.built > MAX_VALUES:
            raise _TooLarge()
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if id(node) in self.open:
                self.map.problems.append(self.map.problem(path, "a value may not contain itself (an alias "
                                                                "inside its own anchor)"))
                return None
            self.open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            finally:
                self.open.discard(id(node))
        if node.style is None:
            self.map.texts[path] = node.value
        value = self._scalar(node, path)
        return None if value is _UNREAD else value

    def _scalar(self, node: yaml.Node, path: Path_, line: int | None = None) -> Any:
        try:
            return self.construct_object(node, deep=True)
        except _UNREADABLE as exc:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            reason = getattr(exc, "problem", None) or ""
            reason = "no such tag" if reason.startswith("could not determine a constructor") else reason
            self.map.problems.append(self.map.problem(path, f"cannot read {node.value!r} as {tag}"
                                                            + (f": {reason}" if reason else ""), line))
            return _UNREAD

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        try:
            self.flatten_mapping(node)
        except yaml.YAMLError as exc:  # "<<: 5": a merge key takes a mapping or a list of them
            self.map.problems.append(self.map.problem(path, f"merge key (<<): {exc.problem}", exc.problem_mark.line + 1
                                                      if exc.problem_mark else None))
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.map.problems.append(self.map.problem(path, "a key must be a plain value", key_line))
                continue
            key = self._scalar(key_node, path, key_line)
            if key is _UNREAD:
                continue
            if key_node.style is None and not isinstance(key, str):
                key = key_node.value
            if key in out:
                first = self.map.lines[(*path, key)]
                message = f"duplicate key {key!r} (first at line {first})"
                self.map.problems.append(self.map.problem((*path, key), message, key_line))
                continue
            out[key] = self.build(value_node, (*path, key), key_line)
        return out


def load_yaml(text: str, filename: str) -> tuple[Any, LineMap]:
    """Parse ``text`` safely into plain values and a :class:`LineMap` of their lines.

    Duplicate keys land in ``LineMap.problems`` (the first one wins). A syntax error
    raises :class:`YamlSyntaxError` whose one problem carries the line PyYAML marked.
    """
    lines = LineMap(filename)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = "; ".join(str(s) for s in (exc.context, exc.problem) if s)
        raise YamlSyntaxError([Problem(filename, mark.line + 1 if mark else 1, "", f"YAML syntax: {detail}")]) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError([Problem(filename, 1, "", f"YAML syntax: {exc}")]) from None
    except RecursionError:  # PyYAML's composer recurses once per level: "[[[[...]]]]"
        raise YamlSyntaxError([Problem(filename, 1, "", "YAML: nested too deeply")]) from None
    if node is None:
        return None, lines
    try:
        return _Builder(lines).build(node, ()), lines
    except _TooLarge:
        raise YamlSyntaxError([Problem(filename, 1, "", f"YAML: more than {MAX_VALUES} values once its aliases "
                                                        "are expanded")]) from None
    except RecursionError:
        raise YamlSyntaxError([Problem(filename, 1, "", "YAML: nested too deeply")]) from None


_TYPE_NAMES = {str: "a string", int: "a whole number", bool: "true or false", float: "a number",
               list: "a list", dict: "a mapping", type(None): "nothing (null)"}


def type_name(value: Any) -> str:
    """How a problem message names the type of ``value``."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class Checker:
    """Reads a loaded YAML value against a schema, collecting every problem it finds."""

    def __init__(self, lines: LineMap) -> None:
        self.lines = lines
        self.problems: list[Problem] = list(lines.problems)

    def add(self, path: Path_, message: str, line: int | None = None) -> None:
        """Record a problem at ``path``."""
        self.problems.append(self.lines.problem(path, message, line))

    def mapping(self, value: Any, path: Path_, required: tuple[str, ...], optional: tuple[str, ...]) -> dict | None:
        """``value`` when it is a mapping; unknown and missing keys are reported."""
        if not isinstance(value, dict):
            self.add(path, f"expected a mapping with keys {', '.join(required + optional)}, got {type_name(value)}")
            return None
        allowed = required + optional
        for key in value:
            if key not in allowed:
                self.add((*path, key), f"unknown key (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                self.add(path, f"missing required key {key!r}")
        return value

    def string(self, value: dict, path: Path_, key: str, default: Any = None, *, nullable: bool = False,
               pattern: re.Pattern[str] | None = None, hint: str = "") -> Any:
        """``value[key]`` as a string; a plain scalar YAML took for a bool or number keeps its text."""
        if key not in value or (value[key] is None and nullable):
            return default if key not in value else None
        text = self._as_string(value[key], (*path, key), pattern, hint)
        return default if text is None else text

    def _as_string(self, item: Any, at: Path_, pattern: re.Pattern[str] | None, hint: str) -> str | None:
        if not isinstance(item, str) and item is not None and self.lines.text(at) is not None:
            item = self.lines.text(at)
        if not isinstance(item, str):
            self.add(at, f"expected a string, got {type_name(item)}")
            return None
        if pattern is not None and not pattern.fullmatch(item):
            self.add(at, f"{item!r} is not valid{': ' + hint if hint else ''}")
            return None
        return item

    def integer(self, value: dict, path: Path_, key: str, default: int, low: int, high: int) -> int:
        """``value[key]`` as a whole number within ``low..high``."""
        if key not in value:
            return default
        item, at = value[key], (*path, key)
        if not isinstance(item, int) or isinstance(item, bool):
            self.add(at, f"expected a whole number, got {type_name(item)}")
        elif not low <= item <= high:
            self.add(at, f"{item} is out of range {low}..{high}")
        else:
            return item
        return default

    def strings(self, value: dict, path: Path_, key: str, *, pattern: re.Pattern[str] | None = None,
                hint: str = "") -> list[tuple[Path_, str]]:
        """``value[key]`` as ``(path, string)`` pairs; a single string counts as a list of one."""
        if key not in value or value[key] is None:
            return []
        items, at = value[key], (*path, key)
        pairs = [((*at, i), item) for i, item in enumerate(items)] if isinstance(items, list) else [(at, items)]
        out = []
        for where, item in pairs:
            text = self._as_string(item, where, pattern, hint)
            if text is not None:
                out.append((where, text))
        return out
