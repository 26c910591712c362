"""Files that list credentials by hash (``api.keys_file``, ``api.oauth_clients_file``): a YAML list
of entries, read once at start; any problem is one line naming the config key and the file."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import msgspec
import yaml

from gateway.errors import ConfigurationError

T = TypeVar("T")


def load_entries(path: Path, key: str, entry: type[T], unique: str) -> list[T]:
    """The entries of ``path`` as ``entry`` structs; the field ``unique`` may not repeat."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{key}: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{key}: {path}: not YAML: {exc}") from None
    try:
        entries = msgspec.convert(data or [], list[entry], strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(f"{key}: {path}: {exc}") from None
    seen: set[str] = set()
    for item in entries:
        value = getattr(item, unique)
        if value in seen:
            raise ConfigurationError(f"{key}: {path}: {unique} {value!r} appears twice")
        seen.add(value)
    return entries
