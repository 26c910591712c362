"""The one reader of ``Authorization: Bearer ...``, for /ext/v1 API keys and /partner/v1 access tokens alike."""

from __future__ import annotations


def bearer_token(authorization: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer ...`` header (API key or access token); None when there is none.

    Keys and tokens are printable ASCII; anything else is no credential (raw header bytes arrive as
    surrogates, which no comparison or hash can encode).
    """
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not (token.isascii() and token.isprintable()):
        return None
    return token
