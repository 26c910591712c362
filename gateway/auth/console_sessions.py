"""Operator console sessions: an API key signs in once; a signed cookie carries the session after that.

The cookie is ``v1.<key id>.<expires>.<nonce>.<mac>``, the MAC an HMAC-SHA256 under the console's
secret over those fields and the key's current fingerprint (gateway/auth/apikeys.py). Nothing is
stored, so any daemon with the same secret accepts it; each request re-reads the key, so revoking
it ends its sessions at once. Signing out forgets the nonce in this daemon's memory until the
cookie would have expired anyway. Forms carry a CSRF token derived from the session's nonce (or,
for the sign-in form, from a short-lived cookie of its own).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from gateway.auth.admission import CallerBuckets
from gateway.auth.apikeys import ApiKeyAuth
from gateway.clock import Clock
from gateway.config import Console
from gateway.errors import ConfigurationError, TooManyRequests

COOKIE = "gateway_console"
SIGN_IN_COOKIE = "gateway_console_sign_in"
SIGN_IN_FORM_SECONDS = 1800  # the sign-in form's CSRF cookie lives this long
MAX_SIGNED_OUT = 10_000
_COOKIE_SHAPE = re.compile(r"v1\.([A-Za-z0-9]{1,32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")
_NONCE_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass(frozen=True)
class Session:
    key_id: str
    nonce: str
    expires_at: datetime
    csrf: str  # the token every form of this session carries


def load_secret(path: Path, *, create: bool) -> bytes:
    """The console's HMAC key from ``path`` (64 hex digits); made there (mode 0600) when ``create`` and absent."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        if not create:
            raise ConfigurationError(f"console.secret_file: {path} does not exist") from None
        path.parent.mkdir(parents=True, exist_ok=True)
        text = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use that one
            return load_secret(path, create=False)
        with os.fdopen(fd, "w") as handle:
            handle.write(text + "\n")
    if not re.fullmatch(r"[0-9a-fA-F]{64,}", text):
        raise ConfigurationError(f"console.secret_file: {path} must hold at least 64 hex digits "
                                 "(python3 -c 'import secrets; print(secrets.token_hex(32))')")
    return bytes.fromhex(text[: len(text) // 2 * 2])


def _mac(secret: bytes, *parts: str) -> str:
    digest = hmac.new(secret, "|".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class ConsoleSessions:
    """Sign-in, the session a cookie names, CSRF tokens, sign-out. One per application."""

    def __init__(self, keys: ApiKeyAuth, clock: Clock, settings: Console) -> None:
        self.keys, self.clock, self.settings = keys, clock, settings
        self.secret: bytes | None = None  # set at start (load_secret)
        self._sign_ins = CallerBuckets(settings.sign_in_per_minute / 60, settings.sign_in_burst, clock)
        self._signed_out: dict[str, datetime] = {}

    def _key(self) -> bytes:
        assert self.secret is not None, "the console's secret is loaded at start"
        return self.secret

    async def sign_in(self, key: str, remote: str | None) -> tuple[str, Session]:
        """The cookie value and session for a valid API key. Raises TooManyRequests past the sign-in
        rate of ``remote``, Unauthorized for a wrong key (and whatever the key check raises)."""
        bucket = self._sign_ins.bucket(f"console:{remote}")
        if not bucket.take(1):
            raise TooManyRequests("Too many sign-in attempts; try again later.",
                                  retry_after=max(1, math.ceil(bucket.seconds_until(1))))
        key_id = await self.keys.authenticate(f"Bearer {key.strip()}", remote)
        expires = int(self.clock.now().timestamp()) + self.settings.session_minutes * 60
        nonce = secrets.token_urlsafe(16)
        fields = (key_id, str(expires), nonce)
        cookie = "v1." + ".".join(fields) + "." + _mac(self._key(), "session", *fields,
                                                        await self.keys.fingerprint(key_id) or "")
        return cookie, self._session(key_id, nonce, expires)

    def _session(self, key_id: str, nonce: str, expires: int) -> Session:
        return Session(key_id=key_id, nonce=nonce, expires_at=datetime.fromtimestamp(expires, timezone.utc),
                       csrf=_mac(self._key(), "csrf", nonce))

    async def session(self, cookie: str | None) -> Session | None:
        """The session ``cookie`` carries; None when it is missing, forged, expired, signed out, or its key
        is revoked."""
        shape = _COOKIE_SHAPE.fullmatch(cookie or "")
        if shape is None:
            return None
        key_id, expires, nonce, mac = shape.groups()
        if int(expires) <= self.clock.now().timestamp() or nonce in self._signed_out:
            return None
        fingerprint = await self.keys.fingerprint(key_id)
        if fingerprint is None or not hmac.compare_digest(mac, _mac(self._key(), "session", key_id, expires, nonce,
                                                                     fingerprint)):
            return None
        return self._session(key_id, nonce, int(expires))

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return hmac.compare_digest(session.csrf, token or "")

    def sign_out(self, session: Session) -> None:
        """Refuse this session's cookie from now on (in this daemon; it expires everywhere at its time)."""
        now = self.clock.now()
        self._signed_out = {n: t for n, t in self._signed_out.items() if t > now}
        if len(self._signed_out) < MAX_SIGNED_OUT:
            self._signed_out[session.nonce] = session.expires_at

    # The sign-in form: its CSRF token is tied to a cookie of its own, which another site cannot set.
    @staticmethod
    def sign_in_nonce() -> str:
        return secrets.token_urlsafe(16)

    def sign_in_token(self, nonce: str) -> str:
        return _mac(self._key(), "sign-in", nonce)

    def sign_in_token_ok(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not _NONCE_SHAPE.fullmatch(nonce):
            return False
        return hmac.compare_digest(self.sign_in_token(nonce), token or "")
