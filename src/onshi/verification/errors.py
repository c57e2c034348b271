"""Error codes of the verification domain. Text for each code: ``messages.toml`` (ja, en).

The certificate codes (``certificate.*``) belong to :mod:`onshi.pki`; the identifier codes
(``insurer_number.*``, ``symbol.*`` …) to :mod:`onshi.identifiers`.
"""

from __future__ import annotations

from typing import Any, Final

from onshi.errors import DomainError

CHALLENGE_UNKNOWN: Final = "challenge.unknown"
CHALLENGE_OTHER_DEVICE: Final = "challenge.other_device"
CHALLENGE_EXPIRED: Final = "challenge.expired"
CHALLENGE_USED: Final = "challenge.used"
FACE_NOT_MATCHED: Final = "face.not_matched"
BAD_CONSENTS: Final = "verification.bad_consents"
MALFORMED: Final = "verification.malformed"
CARD_NOT_REGISTERED: Final = "card.not_registered"
TRUST_UNAVAILABLE: Final = "verification.trust_unavailable"
VERIFICATION_UNKNOWN: Final = "verification.unknown"
VISUAL_NOT_PENDING: Final = "visual.not_pending"
VISUAL_REJECTED: Final = "visual.rejected"
VISUAL_NOT_ENABLED: Final = "verification.visual_not_enabled"
CARD_LINK_HOLDER_UNKNOWN: Final = "card_link.holder_unknown"
CARD_LINK_HOLDER_INCOMPLETE: Final = "card_link.holder_incomplete"
CARD_LINK_TYPED_IDENTITY: Final = "card_link.typed_identity"
CARD_LINK_ALREADY_LINKED: Final = "card_link.already_linked"
PATIENT_NUMBER_TAKEN: Final = "patient_number.taken"
PATIENT_NUMBER_FORMAT: Final = "patient_number.format"
BIRTH_DATE_FORMAT: Final = "lookup.birth_date"

#: HTTP status of each code (422 unless listed, as in the device protocol).
STATUS: Final[dict[str, int]] = {
    CHALLENGE_UNKNOWN: 404,
    CHALLENGE_OTHER_DEVICE: 403,
    CHALLENGE_EXPIRED: 422,
    CHALLENGE_USED: 409,
    FACE_NOT_MATCHED: 422,
    BAD_CONSENTS: 400,
    MALFORMED: 400,
    CARD_NOT_REGISTERED: 422,
    TRUST_UNAVAILABLE: 503,
    VERIFICATION_UNKNOWN: 404,
    VISUAL_NOT_PENDING: 409,
    VISUAL_REJECTED: 422,
    VISUAL_NOT_ENABLED: 409,
    CARD_LINK_HOLDER_UNKNOWN: 422,
    CARD_LINK_HOLDER_INCOMPLETE: 422,
    CARD_LINK_TYPED_IDENTITY: 400,
    CARD_LINK_ALREADY_LINKED: 409,
    PATIENT_NUMBER_TAKEN: 409,
    PATIENT_NUMBER_FORMAT: 400,
    BIRTH_DATE_FORMAT: 400,
}

ERROR_CODES: Final = frozenset(STATUS)


def status_of(code: str) -> int:
    return STATUS.get(code, 422)


class VerificationError(DomainError):
    """A verification request cannot be processed (the ``code`` says why)."""

    code = MALFORMED
    status_code = 422

    def __init__(self, code: str, /, **params: Any) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown verification error code {code!r}")
        super().__init__(code, **params)
        self.status_code = status_of(code)
