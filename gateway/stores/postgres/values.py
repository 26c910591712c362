"""How Python values become PostgreSQL parameters: text without NUL, times to the millisecond (as SQLite keeps
them, so a copy between the engines is exact), a decision's rows as one jsonb document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from gateway.stores.connector import Rows


def param(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        # PostgreSQL's text cannot hold NUL (SQLite's can): it is stored as U+FFFD, the replacement character.
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if kind is datetime and value.microsecond % 1000:
        return value.replace(microsecond=value.microsecond - value.microsecond % 1000)
    if kind is Rows:  # a document of rows (jsonb): each row's values as a query's parameters are; an empty
        # group is left out, so the server-side function skips its statement (each costs ~20 us even when empty)
        return {name: row_values(group) if type(group) is dict else [row_values(r) for r in group]
                for name, group in value.items() if group}
    return value


def row_values(row: Any) -> Any:
    return {name: param(v) for name, v in row.items()} if type(row) is dict else param(row)


ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")  # \u0000 not itself escaped (\\u0000 is text)


def jsonb(value: Any) -> str:
    text = msgspec.json.encode(value).decode()
    # jsonb refuses \u0000 as text does NUL: the same replacement character.
    return ESCAPED_NUL.sub(r"\1\\ufffd", text) if "\\u0000" in text else text


def query_args(names: Sequence[str], params: Any) -> list[Any]:
    return [param(params[name]) for name in names]
