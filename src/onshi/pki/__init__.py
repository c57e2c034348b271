"""JPKI certificates: checking card certificates and signatures, and a development PKI.

No web framework imports here. Hot paths build one :class:`TrustStore` and reuse it.
"""

from onshi.pki.errors import CertificateError, DevelopmentPKIError, TrustConfigurationError
from onshi.pki.reloading import ReloadingTrustStore, TrustFiles
from onshi.pki.trust import (
    CertificateVerdict,
    TrustStore,
    certificate_fingerprint,
    parse_certificate,
    verify_card_certificate,
    verify_card_signature,
)

__all__ = [
    "CertificateError",
    "CertificateVerdict",
    "DevelopmentPKIError",
    "ReloadingTrustStore",
    "TrustConfigurationError",
    "TrustFiles",
    "TrustStore",
    "certificate_fingerprint",
    "parse_certificate",
    "verify_card_certificate",
    "verify_card_signature",
]
