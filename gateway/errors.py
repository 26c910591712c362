"""Every error the gateway raises on purpose.

Each class's docstring is its default message. HTTP errors carry the status and the
machine-readable code of the error shape in INTERFACE.md:
``{"error": {"code": ..., "message": ..., "details": {...}}}``.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """The gateway could not do what was asked."""

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.details = details
        super().__init__(self.message)


class ConfigurationError(GatewayError):
    """The configuration is invalid."""


class StoreError(GatewayError):
    """The store could not complete the operation."""


class StaleDecision(StoreError):
    """The decision was made on a state that changed before it could be committed; decide again."""


class InvalidPhoneNumber(GatewayError):
    """The phone number is not a valid number."""


class CarrierError(GatewayError):
    """The carrier refused or failed the message.

    ``retryable`` says whether the outbox should try again later; ``code`` is the
    carrier's own error code when it gave one.
    """

    def __init__(self, message: str | None = None, *, retryable: bool, code: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retryable = retryable
        self.code = code


class MailError(GatewayError):
    """The mail server refused or failed the message.

    ``retryable`` says whether sending again later may succeed (connection refused, a
    timeout, a 4xx reply); ``code`` is the server's SMTP reply code when it gave one.
    """

    def __init__(self, message: str | None = None, *, retryable: bool, code: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retryable = retryable
        self.code = code


class HTTPProblem(GatewayError):
    """The request could not be served."""

    status = 400
    code = "BAD_REQUEST"

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(HTTPProblem):
    """The request is malformed."""


class Unauthorized(HTTPProblem):
    """A valid bearer credential is required."""

    status = 401
    code = "UNAUTHORIZED"


class Forbidden(HTTPProblem):
    """Access to this resource is denied."""

    status = 403
    code = "FORBIDDEN"


class NotFound(HTTPProblem):
    """No such resource."""

    status = 404
    code = "NOT_FOUND"


class Conflict(HTTPProblem):
    """The resource already exists."""

    status = 409
    code = "CONFLICT"


class TooManyRequests(HTTPProblem):
    """Too many requests; try again later."""

    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **details: Any) -> None:
        super().__init__(message, **details)
        self.headers = {"Retry-After": str(retry_after)}


class PayloadTooLarge(HTTPProblem):
    """The request body is too large."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"


class RequestTimeout(HTTPProblem):
    """The request body did not arrive in time."""

    status = 408
    code = "REQUEST_TIMEOUT"
    headers = {"Connection": "close"}  # the rest of a late body is never read, so the connection cannot be reused


class UnsupportedMediaType(HTTPProblem):
    """The request body must be JSON (Content-Type: application/json)."""

    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class ValidationFailed(HTTPProblem):
    """The request body failed validation."""

    status = 422
    code = "VALIDATION_ERROR"


class InvalidContact(HTTPProblem):
    """One or more contact IDs are invalid"""  # the seed's exact words

    status = 400
    code = "INVALID_CONTACT"


class UnknownSite(HTTPProblem):
    """No such site."""

    status = 404
    code = "SITE_NOT_FOUND"


class ChecksShed(GatewayError):
    """Too many credential checks at once: refused without checking.

    ``known`` says whether the caller was a known contact, key or client; ``retry_after`` is
    the whole seconds until the caller's own bucket would let it in again (at least 1).
    """

    def __init__(self, reason: str, *, known: bool, retry_after: int) -> None:
        super().__init__(f"credential checks: shed ({reason})", reason=reason)
        self.reason = reason
        self.known = known
        self.retry_after = retry_after


class DuplicateKey(StoreError):
    """A record with this key already exists."""


class StoreUnavailable(StoreError, HTTPProblem):
    """The database does not answer; try again shortly."""

    status = 503
    code = "STORE_UNAVAILABLE"
    headers = {"Retry-After": "5"}


class TokenRequired(Unauthorized):
    """An OAuth 2.0 access token is required (Authorization: Bearer ...; see POST /oauth/token)."""

    headers = {"WWW-Authenticate": 'Bearer realm="partner"'}


class InvalidToken(Unauthorized):
    """The access token is missing, invalid, expired or revoked."""

    headers = {"WWW-Authenticate": 'Bearer realm="partner", error="invalid_token"'}


class DealerForbidden(Forbidden):
    """This client may not act for that dealer."""

    code = "DEALER_FORBIDDEN"


class ContactNotFound(NotFound):
    """No such contact."""

    code = "CONTACT_NOT_FOUND"


class DuplicateContact(Conflict):
    """A contact with this external_contact_id already exists on the site."""

    code = "DUPLICATE_CONTACT"


class NoPhone(ValidationFailed):
    """The contact has no phone number to text."""

    code = "NO_PHONE_NUMBER"
