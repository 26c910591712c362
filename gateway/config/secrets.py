"""Secrets named in the configuration: inline, in a file beside it, or in the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gateway.errors import ConfigurationError


def read_secret(value: str | None, file: str | os.PathLike[str] | None, env_name: str | None,
                env: Mapping[str, str] = os.environ, *, key: str = "secret") -> str | None:
    """A secret from its ``*_file`` (content stripped), else the inline value, else ``$env_name``.

    ``key`` names the setting in error messages, which never contain the secret itself.
    Giving both a value and a file is an error, as is a file that is missing or empty.
    """
    if value is not None and file is not None:
        raise ConfigurationError(f"{key}: give either {key} or {key}_file, not both", key=key)
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{key}_file: cannot read {os.fspath(file)}: {exc.strerror}", key=key) from None
        if not text:
            raise ConfigurationError(f"{key}_file: {os.fspath(file)} is empty", key=key)
        return text
    if value is not None:
        return value
    return env.get(env_name) or None if env_name else None


def masked_url(url: str) -> str:
    """``url`` with its password, if it has one, as ``***``: the form to print or log."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL one can split (a bad port ...): hide whatever stands before an @
        return url if "@" not in url else url.split("://", 1)[0] + "://***@" + url.rpartition("@")[2]
    if password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
