"""Every error the gateway raises on purpose, and the one place that turns a refusal into an HTTP answer.

Each class's docstring is its default message. A :class:`Refused` carries the machine-readable
code of the error shape ``{"error": {"code": ..., "message": ..., "details": {...}}}``; only
:func:`problem` (by the table ``HTTP_STATUS``) knows which HTTP status answers it, so the core
raises refusals without knowing HTTP.
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


class DeliveryError(GatewayError):
    """The message could not be delivered.

    ``retryable`` says whether the outbox should try again later (a timeout, a refused connection,
    a 4xx SMTP reply); ``code`` is the carrier's own error code or the SMTP reply code, when given.
    """

    def __init__(self, message: str | None = None, *, retryable: bool, code: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retryable = retryable
        self.code = code


class CarrierError(DeliveryError):
    """The carrier refused or failed the message."""


class MailError(DeliveryError):
    """The mail server refused or failed the message."""


class DuplicateKey(StoreError):
    """A record with this key already exists."""


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


class Refused(GatewayError):
    """The request could not be served."""

    code = "BAD_REQUEST"
    headers: dict[str, str] | None = None  # sent with the answer (Retry-After, WWW-Authenticate ...)


class BadRequest(Refused):
    """The request is malformed."""


class Unauthorized(Refused):
    """A valid bearer credential is required."""

    code = "UNAUTHORIZED"


class StoreUnavailable(StoreError, Refused):
    """The database does not answer; try again shortly."""

    code = "STORE_UNAVAILABLE"
    headers = {"Retry-After": "5"}


class TokenRequired(Unauthorized):
    """An OAuth 2.0 access token is required (Authorization: Bearer ...; see POST /oauth/token)."""

    headers = {"WWW-Authenticate": 'Bearer realm="partner"'}


class InvalidToken(Unauthorized):
    """The access token is missing, invalid, expired or revoked."""

    headers = {"WWW-Authenticate": 'Bearer realm="partner", error="invalid_token"'}


class Forbidden(Refused):
    """Access to this resource is denied."""

    code = "FORBIDDEN"


class DealerForbidden(Forbidden):
    """This client may not act for that dealer."""

    code = "DEALER_FORBIDDEN"


class NotFound(Refused):
    """No such resource."""

    code = "NOT_FOUND"


class UnknownSite(NotFound):
    """No such site."""

    code = "SITE_NOT_FOUND"


class ContactNotFound(NotFound):
    """No such contact."""

    code = "CONTACT_NOT_FOUND"


class MethodNotAllowed(Refused):
    """This method is not allowed here."""

    code = "METHOD_NOT_ALLOWED"

    def __init__(self, message: str | None = None, *, allow: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.headers = {"Allow": allow}


class Conflict(Refused):
    """The resource already exists."""

    code = "CONFLICT"


class DuplicateContact(Conflict):
    """A contact with this external_contact_id already exists on the site."""

    code = "DUPLICATE_CONTACT"


class TooManyRequests(Refused):
    """Too many requests; try again later."""

    code = "RATE_LIMITED"

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **details: Any) -> None:
        super().__init__(message, **details)
        self.headers = {"Retry-After": str(retry_after)}


class Overloaded(Refused):
    """Too many connections; try again shortly."""

    code = "OVERLOADED"
    headers = {"Retry-After": "1"}


class PayloadTooLarge(Refused):
    """The request body is too large."""

    code = "PAYLOAD_TOO_LARGE"


class RequestTimeout(Refused):
    """The request body did not arrive in time."""

    code = "REQUEST_TIMEOUT"
    headers = {"Connection": "close"}  # the rest of a late body is never read, so the connection cannot be reused


class UnsupportedMediaType(Refused):
    """The request body must be JSON (Content-Type: application/json)."""

    code = "UNSUPPORTED_MEDIA_TYPE"


class ValidationFailed(Refused):
    """The request body failed validation."""

    code = "VALIDATION_ERROR"


class NoPhone(ValidationFailed):
    """The contact has no phone number to text."""

    code = "NO_PHONE_NUMBER"


class UnsupportedMethod(Refused):
    """This delivery method is not available."""

    code = "UNSUPPORTED_METHOD"


class DeliveryFailed(Refused):
    """Failed to deliver verification message"""  # the seed's exact words

    code = "DELIVERY_FAILED"


class InvalidContact(Refused):
    """One or more contact IDs are invalid"""  # the seed's exact words

    code = "INVALID_CONTACT"


HTTP_STATUS: dict[type[Refused], int] = {
    Refused: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, MethodNotAllowed: 405, RequestTimeout: 408,
    Conflict: 409, PayloadTooLarge: 413, UnsupportedMediaType: 415, ValidationFailed: 422, UnsupportedMethod: 422,
    DeliveryFailed: 422, TooManyRequests: 429, Overloaded: 503, StoreUnavailable: 503,
}


def http_status(refusal: Refused) -> int:
    """The HTTP status that answers ``refusal``: its own class's in ``HTTP_STATUS``, else its nearest base's."""
    return next(HTTP_STATUS[kind] for kind in type(refusal).__mro__ if kind in HTTP_STATUS)


def _shape(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def problem(refusal: Refused) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the error body of ``refusal``."""
    return http_status(refusal), _shape(refusal.code, refusal.message, refusal.details)


def internal_error(trace_id: str) -> tuple[int, dict[str, Any]]:
    """The 500 of a failure nobody meant: the body names only the trace id its log line carries."""
    return 500, _shape("INTERNAL", "Internal error; it is logged.", {"trace_id": trace_id})
