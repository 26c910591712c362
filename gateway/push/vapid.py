"""The gateway's VAPID key pair (RFC 8292): read from its PEM file, or made there on first start."""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02, VapidException

from gateway.config import Config
from gateway.errors import ConfigurationError

JWT_HOURS = 12  # a VAPID JWT may live at most 24 hours (RFC 8292 section 2)


def key_path(config: Config) -> Path:
    """``push.vapid_private_key_file`` (relative to the config's folder), else ``vapid_private.pem`` beside the
    daemon's other files."""
    if config.push.vapid_private_key_file:
        return config.resolve(config.push.vapid_private_key_file)
    return config.state_folder / "vapid_private.pem"


def load_key(path: Path, *, create: bool) -> Vapid02:
    """The key in ``path``; with ``create``, a new one written there (owner-only) when the file does not exist.
    ConfigurationError naming the file when it cannot be read, written or parsed."""
    if not path.exists():
        if not create:
            raise ConfigurationError(f"push.vapid_private_key_file: {path} does not exist (serve makes it)")
        vapid = Vapid02()
        vapid.generate_keys()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(vapid.private_pem())
        except FileExistsError:  # another daemon made it a moment ago: use theirs
            return load_key(path, create=False)
        except OSError as exc:
            raise ConfigurationError(f"push.vapid_private_key_file: cannot write {path}: {exc.strerror}") from None
        return vapid
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"push.vapid_private_key_file: cannot read {path}: {exc.strerror}") from None
    with contextlib.suppress(VapidException, ValueError, TypeError):
        if b"-----BEGIN" in pem:
            return Vapid02.from_pem(pem)
    raise ConfigurationError(f"push.vapid_private_key_file: {path} is not a PEM EC P-256 private key")


def public_key(vapid: Vapid02) -> str:
    """The public key as a browser's ``applicationServerKey`` takes it: the uncompressed point, base64url."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
