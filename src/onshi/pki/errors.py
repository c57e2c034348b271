"""Errors of certificate checks. Text for each code lives in ``messages.toml`` (ja and en)."""

from __future__ import annotations

from typing import Any, Final

from onshi.errors import DomainError

MALFORMED: Final = "certificate.malformed"
UNTRUSTED: Final = "certificate.untrusted"
REVOKED: Final = "certificate.revoked"
NOT_YET_VALID: Final = "certificate.not_yet_valid"
EXPIRED: Final = "certificate.expired"
CRL_STALE: Final = "certificate.crl_stale"
BAD_SIGNATURE: Final = "certificate.bad_signature"

CERTIFICATE_ERROR_CODES: Final = (
    MALFORMED,
    UNTRUSTED,
    REVOKED,
    NOT_YET_VALID,
    EXPIRED,
    CRL_STALE,
    BAD_SIGNATURE,
)


class CertificateError(DomainError):
    """A card certificate (or a signature made with its key) is not acceptable.

    The ``code`` says why; ``params`` carry the values the message shows (dates as ISO strings).
    """

    code = MALFORMED
    status_code = 422

    def __init__(self, code: str, /, **params: Any) -> None:
        if code not in CERTIFICATE_ERROR_CODES:
            raise ValueError(f"unknown certificate error code {code!r}")
        super().__init__(code, **params)


class TrustConfigurationError(ValueError):
    """Configured trust anchors or CRLs cannot be used (an operator error at start-up)."""


class DevelopmentPKIError(Exception):
    """The development PKI directory is missing, damaged, or asked for an unknown card."""
