"""Proof checks of a card submission: the card's PIN signature or the device's face attestation.

The card signs the SHA-256 DigestInfo of the challenge (RSASSA-PKCS1-v1_5 / SHA-256). The
portal keeps only SHA-256(challenge), which is exactly the digest that signature covers, so the
check verifies over the stored digest (``Prehashed``) and the raw challenge is never stored.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from onshi.pki import CertificateError, CertificateVerdict
from onshi.pki import errors as pki_errors
from onshi.verification import errors
from onshi.verification.errors import VerificationError
from onshi.verification.schemas import CardSubmission

_PREHASHED = Prehashed(hashes.SHA256())


def verify_digest_signature(verdict: CertificateVerdict, digest_hex: str, signature: bytes) -> None:
    """``certificate.bad_signature`` unless ``signature`` is the card key's PKCS#1 v1.5
    signature over the SHA-256 digest ``digest_hex``."""
    key = verdict.certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateError(pki_errors.MALFORMED)
    try:
        key.verify(signature, bytes.fromhex(digest_hex), padding.PKCS1v15(), _PREHASHED)
    except (InvalidSignature, ValueError):
        raise CertificateError(pki_errors.BAD_SIGNATURE) from None


def verify_card_proof(
    request: CardSubmission, verdict: CertificateVerdict, digest_hex: str
) -> None:
    """PIN: the card signature; face: the device's attestation says matched (the device's own
    signature over the request, checked by the web layer, vouches for it); 目視: no proof here
    (a staff member confirms later)."""
    if request.method == "pin":
        if request.signature is None:
            raise CertificateError(pki_errors.BAD_SIGNATURE)
        verify_digest_signature(verdict, digest_hex, request.signature)
    elif request.method == "face" and (request.face is None or not request.face.matched):
        raise VerificationError(errors.FACE_NOT_MATCHED)
