"""Checking a card's user-authentication certificate and the signatures made with its key.

Build a :class:`TrustStore` once and reuse it (the app keeps it in a
:class:`onshi.pki.reloading.ReloadingTrustStore`, which swaps in a new one when the files
change, e.g. a re-issued CRL): it holds the parsed
anchors, the ``cryptography`` verification ``Store``, the extension policies and an index of
every configured CRL, so one check costs a chain verification (~60 µs) plus dictionary lookups.

Chain results are cached per certificate (SHA-256 of its DER) in the store: a card that was
chained to an anchor once is not parsed or chained again (~0.1 ms saved per check). Only the
time-independent part is cached — the parsed certificate and which anchor its signature chains
to under the JPKI policies — and only successes; the anchor's validity, the CRL (freshness and
revocation) and the certificate's own validity are judged again on every check, exactly as
below. The cache belongs to the store, so a new store (the reloading store builds one when the
anchor or CRL files change) starts empty: nothing outlives a change of the trust configuration.
At most :data:`CHAIN_CACHE_SIZE` certificates are kept (the oldest go first).

Checks run in a fixed order, and the first failure is the error:

1. parse (``certificate.malformed``);
2. chain to a configured anchor under a JPKI extension policy (``certificate.untrusted``);
3. revocation against the anchor's CRL, which must be fresh (``certificate.crl_stale``,
   ``certificate.revoked``);
4. validity at ``at``: before not_before → ``certificate.not_yet_valid``; after not_after plus
   the grace months → ``certificate.expired``; after not_after within the grace → accepted with
   ``in_grace``; within the warning months before not_after → accepted with ``expiry_warning``.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.verification import (
    ClientVerifier,
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from onshi.clock import JST
from onshi.pki import errors
from onshi.pki.errors import CertificateError, TrustConfigurationError
from onshi.pki.profile import MIN_RSA_KEY_SIZE, shift_jst_months
from onshi.settings import Settings

CertificateInput = x509.Certificate | bytes | str
_SHA256 = hashes.SHA256()
CHAIN_CACHE_SIZE = 50_000  # certificates (~3 KiB each with the parsed object)


@dataclass(frozen=True)
class CertificateVerdict:
    """An accepted certificate and the facts the verification result shows."""

    certificate: x509.Certificate
    fingerprint: str
    serial_number: int
    anchor_fingerprint: str
    not_before: datetime
    not_after: datetime
    warning_from: datetime
    grace_until: datetime
    in_grace: bool
    expiry_warning: bool


@dataclass(frozen=True, slots=True)
class _Chained:
    """A certificate that chained to ``anchor`` (valid at some instant of its validity)."""

    certificate: x509.Certificate
    fingerprint: str
    anchor: x509.Certificate
    anchor_fingerprint: str
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class _Revocation:
    revoked_at: datetime
    reason: str


@dataclass(frozen=True)
class _CrlIndex:
    crl: x509.CertificateRevocationList
    next_update: datetime | None
    revoked: dict[int, _Revocation]


def certificate_fingerprint(certificate: CertificateInput) -> str:
    """SHA-256 of the DER certificate, lower-case hex: the key of the 利用登録 link."""
    cert, der = _parse(certificate)
    return hashlib.sha256(der).hexdigest() if der else _fingerprint(cert)


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(_SHA256).hex()


def parse_certificate(data: CertificateInput) -> x509.Certificate:
    """DER (as read from EF 000A, trailing padding allowed) or PEM → certificate."""
    return _parse(data)[0]


def _parse(data: CertificateInput) -> tuple[x509.Certificate, bytes | None]:
    """The certificate and, when given as DER, its exact DER bytes (hashing them is cheaper)."""
    if isinstance(data, x509.Certificate):
        return data, None
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(raw), None
        der = _der_prefix(raw)
        return x509.load_der_x509_certificate(der), der
    except ValueError:
        raise CertificateError(errors.MALFORMED) from None


def _der_of(data: CertificateInput) -> bytes | None:
    """The exact DER of a DER input (the cache key), ``None`` for PEM, objects and garbage."""
    if isinstance(data, x509.Certificate):
        return None
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    try:
        return _der_prefix(raw)
    except ValueError:
        return None


def _der_prefix(raw: bytes) -> bytes:
    """The DER SEQUENCE at the start of ``raw``; a card file may be longer than its content."""
    if len(raw) < 2 or raw[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    first = raw[1]
    if first < 0x80:
        return raw[: 2 + first]
    count = first & 0x7F
    if count == 0 or count > 4 or len(raw) < 2 + count:
        raise ValueError("bad DER length")
    length = int.from_bytes(raw[2 : 2 + count], "big")
    end = 2 + count + length
    if end > len(raw):
        raise ValueError("truncated DER")
    return raw[:end]


def verify_card_signature(
    certificate: CertificateInput, challenge: bytes, signature: bytes
) -> None:
    """Check the card's answer to COMPUTE DIGITAL SIGNATURE over the challenge's DigestInfo.

    The card signs the SHA-256 DigestInfo of ``challenge`` with RSA PKCS#1 v1.5, which is
    exactly an RSASSA-PKCS1-v1_5/SHA-256 signature of the challenge.
    """
    public_key = _rsa_key(parse_certificate(certificate))
    try:
        public_key.verify(signature, challenge, padding.PKCS1v15(), _SHA256)
    except InvalidSignature:
        raise CertificateError(errors.BAD_SIGNATURE) from None


def _rsa_key(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_KEY_SIZE:
        raise CertificateError(errors.MALFORMED)
    return key


# Extension policies. The webpki defaults do not fit JPKI: the end-entity default wants a SAN
# and the client verifier a clientAuth EKU, and user-authentication certificates have neither.
def _require_digital_signature(_policy: Policy, _cert: x509.Certificate, ku: x509.KeyUsage) -> None:
    if not ku.digital_signature:
        raise ValueError("keyUsage lacks digitalSignature")


def _forbid_ca(_policy: Policy, _cert: x509.Certificate, bc: x509.BasicConstraints | None) -> None:
    if bc is not None and bc.ca:
        raise ValueError("an end-entity certificate must not be a CA")


def _require_ca(_policy: Policy, _cert: x509.Certificate, bc: x509.BasicConstraints) -> None:
    if not bc.ca:
        raise ValueError("the issuer is not a CA")


def _ca_key_usage(_policy: Policy, _cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    if ku is not None and not ku.key_cert_sign:
        raise ValueError("the issuer may not sign certificates")


def jpki_ee_policy() -> ExtensionPolicy:
    return (
        ExtensionPolicy.permit_all()
        .require_present(x509.KeyUsage, Criticality.AGNOSTIC, _require_digital_signature)
        .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _forbid_ca)
    )


def jpki_ca_policy() -> ExtensionPolicy:
    return (
        ExtensionPolicy.permit_all()
        .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, _require_ca)
        .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _ca_key_usage)
    )


class TrustStore:
    """Trusted JPKI anchors and their CRLs, parsed and indexed once."""

    def __init__(
        self,
        anchors: Sequence[x509.Certificate],
        crls: Iterable[x509.CertificateRevocationList] = (),
        *,
        grace_months: int = 3,
        warning_months: int = 3,
    ) -> None:
        if not anchors:
            raise TrustConfigurationError("no JPKI trust anchor is configured")
        self.anchors: tuple[x509.Certificate, ...] = tuple(anchors)
        self.grace_months = grace_months
        self.warning_months = warning_months
        self._store = Store(list(self.anchors))
        self._ee_policy = jpki_ee_policy()
        self._ca_policy = jpki_ca_policy()
        self._fingerprints = {_fingerprint(anchor): anchor for anchor in self.anchors}
        # The verifier hands back the very anchor objects of the Store: look them up by id
        # (the tuple above keeps them alive) instead of hashing them again on every check.
        self._anchor_fingerprints = {
            id(anchor): fingerprint for fingerprint, anchor in self._fingerprints.items()
        }
        self._crls = self._index_crls(crls)
        self._chained: dict[str, _Chained] = {}

    @classmethod
    def from_files(
        cls,
        anchor_paths: Iterable[Path],
        crl_paths: Iterable[Path] = (),
        *,
        grace_months: int = 3,
        warning_months: int = 3,
    ) -> TrustStore:
        anchors = [cert for path in anchor_paths for cert in _load_certificates(path)]
        crls = [_load_crl(path) for path in crl_paths]
        return cls(anchors, crls, grace_months=grace_months, warning_months=warning_months)

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustStore:
        return cls.from_files(
            settings.jpki_trust_anchors,
            settings.jpki_crls,
            grace_months=settings.certificates.grace_months,
            warning_months=settings.certificates.expiry_warning_months,
        )

    def with_crls(self, crls: Iterable[x509.CertificateRevocationList]) -> TrustStore:
        """The same anchors with another set of CRLs (e.g. after a CRL download)."""
        return TrustStore(
            self.anchors, crls, grace_months=self.grace_months, warning_months=self.warning_months
        )

    def crl_next_updates(self) -> tuple[datetime | None, ...]:
        """The next-update instant of each anchor's CRL in use (None: the CRL has none)."""
        return tuple(index.next_update for index in self._crls.values())

    def _index_crls(self, crls: Iterable[x509.CertificateRevocationList]) -> dict[str, _CrlIndex]:
        """Anchor fingerprint → the newest CRL that anchor signed."""
        index: dict[str, _CrlIndex] = {}
        for crl in crls:
            signer = next(
                (
                    fingerprint
                    for fingerprint, anchor in self._fingerprints.items()
                    if crl.issuer == anchor.subject and _signed_by(crl, anchor)
                ),
                None,
            )
            if signer is None:
                raise TrustConfigurationError(
                    f"the CRL of {crl.issuer.rfc4514_string()} is not signed by a trust anchor"
                )
            current = index.get(signer)
            if current is not None and current.crl.last_update_utc >= crl.last_update_utc:
                continue
            index[signer] = _CrlIndex(crl, crl.next_update_utc, _revocations(crl))
        return index

    def verify(
        self,
        certificate: CertificateInput,
        *,
        at: datetime,
        grace_months: int | None = None,
        warning_months: int | None = None,
    ) -> CertificateVerdict:
        if at.tzinfo is None:
            raise ValueError("verification time must be timezone-aware")
        grace = self.grace_months if grace_months is None else grace_months
        warning = self.warning_months if warning_months is None else warning_months
        chained = self._chain(certificate, at)
        cert, anchor = chained.certificate, chained.anchor
        not_before, not_after = chained.not_before, chained.not_after
        if not (anchor.not_valid_before_utc <= at <= anchor.not_valid_after_utc):
            raise CertificateError(errors.UNTRUSTED)
        anchor_fingerprint = chained.anchor_fingerprint

        # 2. Revocation.
        crl = self._crls.get(anchor_fingerprint)
        if crl is None:
            raise CertificateError(errors.CRL_STALE, next_update="")
        if crl.next_update is None or crl.next_update < at:
            raise CertificateError(
                errors.CRL_STALE,
                next_update=_jst_iso(crl.next_update) if crl.next_update else "",
            )
        revocation = crl.revoked.get(cert.serial_number)
        if revocation is not None:
            raise CertificateError(
                errors.REVOKED,
                revoked_at=_jst_iso(revocation.revoked_at),
                reason=revocation.reason,
            )

        # 3. Validity.
        grace_until = shift_jst_months(not_after, grace)
        warning_from = shift_jst_months(not_after, -warning)
        if at < not_before:
            raise CertificateError(errors.NOT_YET_VALID, not_before=_jst_iso(not_before))
        if at > grace_until:
            raise CertificateError(
                errors.EXPIRED,
                not_after=_jst_iso(not_after),
                grace_until=_jst_iso(grace_until),
            )
        return CertificateVerdict(
            certificate=cert,
            fingerprint=chained.fingerprint,
            serial_number=cert.serial_number,
            anchor_fingerprint=anchor_fingerprint,
            not_before=not_before,
            not_after=not_after,
            warning_from=warning_from,
            grace_until=grace_until,
            in_grace=at > not_after,
            expiry_warning=at >= warning_from,
        )

    def _chain(self, certificate: CertificateInput, at: datetime) -> _Chained:
        """Steps 1 (parse, RSA key) and 2 (chain), from the cache when this certificate chained
        before. The chain is built at ``at`` clamped into the leaf's validity (validity is
        judged later, with its grace period); with no intermediates (depth 2) the only
        time-dependent part of it is the anchor's validity, which the caller checks at ``at``
        and which is checked here at the clamped instant too."""
        der = _der_of(certificate)
        key = hashlib.sha256(der).hexdigest() if der is not None else None
        cached = self._chained.get(key) if key is not None else None
        if cached is None:
            cert, parsed_der = _parse(certificate)
            _rsa_key(cert)
            not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
            anchor = self._chain_anchor(cert, min(max(at, not_before), not_after))
            fingerprint = (
                hashlib.sha256(parsed_der).hexdigest() if parsed_der else _fingerprint(cert)
            )
            cached = _Chained(
                certificate=cert,
                fingerprint=fingerprint,
                anchor=anchor,
                anchor_fingerprint=self._anchor_fingerprints.get(id(anchor))
                or _fingerprint(anchor),
                not_before=not_before,
                not_after=not_after,
            )
            if key is not None:
                self._remember(key, cached)
            return cached
        chain_time = min(max(at, cached.not_before), cached.not_after)
        anchor = cached.anchor
        if not (anchor.not_valid_before_utc <= chain_time <= anchor.not_valid_after_utc):
            raise CertificateError(errors.UNTRUSTED)
        return cached

    def _remember(self, key: str, chained: _Chained) -> None:
        if len(self._chained) >= CHAIN_CACHE_SIZE:
            # The oldest entry (dicts keep insertion order); another thread may race us.
            with contextlib.suppress(KeyError, StopIteration, RuntimeError):
                del self._chained[next(iter(self._chained))]
        self._chained[key] = chained

    def _verifier(self, at: datetime) -> ClientVerifier:
        # Building a verifier costs a few microseconds; the Store and policies are reused.
        return (
            PolicyBuilder()
            .store(self._store)
            .time(at)
            .max_chain_depth(2)
            .extension_policies(ca_policy=self._ca_policy, ee_policy=self._ee_policy)
            .build_client_verifier()
        )

    def _chain_anchor(self, cert: x509.Certificate, at: datetime) -> x509.Certificate:
        try:
            verified = self._verifier(at).verify(cert, [])
        except VerificationError:
            raise CertificateError(errors.UNTRUSTED) from None
        return verified.chain[-1]


def verify_card_certificate(
    certificate: CertificateInput,
    *,
    anchors: TrustStore | Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList] | None = None,
    at: datetime,
    grace_months: int = 3,
    warning_months: int = 3,
) -> CertificateVerdict:
    """Check a card certificate (see the module docstring for the order of checks).

    Pass a prepared :class:`TrustStore` as ``anchors`` on hot paths (``crls`` then defaults to
    the store's own); a plain sequence of anchor certificates builds a store for this call.
    """
    if isinstance(anchors, TrustStore):
        store = anchors if crls is None else anchors.with_crls(crls)
    else:
        store = TrustStore(anchors, crls or ())
    return store.verify(
        certificate, at=at, grace_months=grace_months, warning_months=warning_months
    )


def _signed_by(crl: x509.CertificateRevocationList, anchor: x509.Certificate) -> bool:
    key = anchor.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return False
    return crl.is_signature_valid(key)


def _revocations(crl: x509.CertificateRevocationList) -> dict[int, _Revocation]:
    revoked: dict[int, _Revocation] = {}
    for entry in crl:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
        except x509.ExtensionNotFound:
            reason = x509.ReasonFlags.unspecified.name
        revoked[entry.serial_number] = _Revocation(entry.revocation_date_utc, reason)
    return revoked


def _jst_iso(instant: datetime) -> str:
    return instant.astimezone(JST).isoformat(timespec="seconds")


def _load_certificates(path: Path) -> list[x509.Certificate]:
    data = _read(path)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise TrustConfigurationError(f"{path}: not a certificate ({exc})") from None


def _load_crl(path: Path) -> x509.CertificateRevocationList:
    data = _read(path)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise TrustConfigurationError(f"{path}: not a CRL ({exc})") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TrustConfigurationError(f"{path}: {exc.strerror}") from None
