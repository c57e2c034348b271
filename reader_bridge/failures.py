"""What the kiosk tells the patient when the card or the portal refuses: an error text and the
instruction under it (`None`: no instruction), both ``{"ja", "en"}``."""

from __future__ import annotations

from typing import Any

from reader_bridge.apdu import CardError, NotAMyNumberCardError
from reader_bridge.messages import Text, message
from reader_bridge.portal import PortalError, PortalUnavailableError

#: The portal no longer knows this reader: the kiosk shows only "not registered".
DEVICE_GONE_CODES = frozenset({"device.revoked", "device.unknown"})
SERVICE_UNAVAILABLE = "service.unavailable"
_TIMED_OUT_CODES = frozenset({"challenge.expired", "challenge.used", "challenge.unknown"})


def card_error_texts(exc: CardError) -> tuple[Text, Text | None]:
    if isinstance(exc, NotAMyNumberCardError):
        return message("error.not_my_number_card"), None
    return {"ja": exc.message_ja, "en": exc.message_en}, message("error.go_to_counter")


def portal_error_texts(exc: PortalError) -> tuple[Text, Text | None]:
    if exc.code == "certificate.expired":
        return message("error.certificate_expired"), None
    if exc.code == "certificate.revoked":
        return message("error.certificate_revoked"), None
    if exc.code in _TIMED_OUT_CODES:
        return message("error.timed_out"), None
    if isinstance(exc, PortalUnavailableError) or exc.code == SERVICE_UNAVAILABLE:
        # the portal could not answer (down, unreachable, its database locked): never a verdict,
        # only what the patient can show instead
        return message("error.not_verified"), message("error.not_verified_fallback")
    return exc.message, message("error.go_to_counter")


def device_gone_texts() -> dict[str, Any]:
    return {"error": message("device_not_registered.body"), "instruction": None}
