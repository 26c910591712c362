"""The banners a contact shows an operator (the dealer portal's, from the seed site-contacts-guide.txt).

Valid number green, pending confirmation yellow, confirmed blue, send error red with the carrier's
error in words, and the states that keep texts from a contact: opted out, an invalid number, none.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from gateway.core.carrier_errors import in_words

Tone = Literal["green", "yellow", "blue", "red", "grey"]


class Banner(NamedTuple):
    tone: Tone
    label: str
    detail: str | None = None


def contact_banners(*, phone: str | None, phone_status: str, line_type: str | None, welcome: str,
                    welcome_error: str | None, welcome_error_code: str | None, opted_out: bool) -> list[Banner]:
    """The banners of one contact, most urgent first.

    ``welcome`` is none, pending, confirmed or send_error; ``welcome_error_code`` the carrier's code
    for the welcome text that failed, when known (``welcome_error`` is the reason as recorded).
    """
    banners: list[Banner] = []
    if not phone:
        return [Banner("grey", "No phone number", "This contact gets no texts.")]
    if opted_out:
        banners.append(Banner("red", "Opted out", "The number texted STOP: no text reaches it until it texts START."))
    if welcome == "send_error":
        detail = in_words(welcome_error_code) if welcome_error_code else (welcome_error or "The text was not sent.")
        banners.append(Banner("red", "Send error", detail))
    if phone_status == "invalid":
        banners.append(Banner("red", "Invalid number", "A landline: it cannot take texts." if line_type == "landline"
                              else "The carrier's lookup says this is not a valid number."))
    elif phone_status == "valid":
        banners.append(Banner("green", "Valid number", f"Line type: {line_type}." if line_type else None))
    if welcome == "pending":
        banners.append(Banner("yellow", "Pending confirmation", "The welcome text was sent; the contact has not "
                              "pressed Confirm yet."))
    elif welcome == "confirmed":
        banners.append(Banner("blue", "Confirmed", "The contact confirmed the welcome message."))
    return banners
