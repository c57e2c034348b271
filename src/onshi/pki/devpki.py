"""The development PKI: a JPKI-like CA and card certificates for synthetic persons, on disk.

DEVELOPMENT ONLY. Nothing here is trusted unless an operator points ONSHI_JPKI_TRUST_ANCHORS at
``ca.pem`` (and ONSHI_JPKI_CRLS at ``crl.pem``). Layout of the directory
(default ``<ONSHI_DATA_DIR>/dev-pki/``)::

    ca.pem                      CA certificate (the trust anchor to configure)
    ca-key.pem                  CA private key, mode 0600
    crl.pem                     current CRL signed by the CA
    index.json                  card id → person reference, serial, validity, history; revocations
    cards/<card-id>/cert.pem    current user-authentication certificate of the card
    cards/<card-id>/key.pem     its private key (what the card chip holds), mode 0600
    cards/<card-id>/previous/<serial>.pem   certificates replaced by renewal

A card id names one (virtual) card; renewal puts a new key and certificate on the same card,
as the municipality counter does, and the old certificate moves to ``previous/``.
Keys are generated on demand (~50 ms each), one card at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from onshi.pki.builders import (
    REVOCATION_REASONS,
    RevocationEntry,
    build_ca_certificate,
    build_card_certificate,
    build_crl,
    generate_rsa_key,
)
from onshi.pki.errors import DevelopmentPKIError
from onshi.pki.trust import certificate_fingerprint

INDEX_VERSION = 1
CRL_VALIDITY = timedelta(days=30)
_CARD_ID = re.compile(r"^[0-9A-F]{16}$")


@dataclass(frozen=True)
class CardRecord:
    card_id: str
    person: str
    birth_date: date
    issued_on: date
    serial_number: int
    not_before: datetime
    not_after: datetime
    fingerprint: str
    revoked: bool
    previous_serials: tuple[int, ...]


class DevelopmentPKI:
    """A development CA in ``directory``. Call :meth:`init` once before issuing."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    # Paths -------------------------------------------------------------------------------
    @property
    def ca_path(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key_path(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def crl_path(self) -> Path:
        return self.directory / "crl.pem"

    @property
    def index_path(self) -> Path:
        return self.directory / "index.json"

    def card_dir(self, card_id: str) -> Path:
        if not _CARD_ID.fullmatch(card_id):
            raise DevelopmentPKIError(f"not a card id: {card_id!r}")
        return self.directory / "cards" / card_id

    # Set-up ------------------------------------------------------------------------------
    def init(self, *, at: datetime, crl_url: str) -> bool:
        """Create the CA if missing (True when created); always re-sign a fresh CRL."""
        with self._locked():
            created = not self.ca_path.exists()
            if created:
                if self.ca_key_path.exists() or self.index_path.exists():
                    raise DevelopmentPKIError(
                        f"{self.directory} holds a CA key or index but no ca.pem; "
                        "remove the directory to start again"
                    )
                key = generate_rsa_key()
                cert = build_ca_certificate(key, at=at)
                _write_private(self.ca_key_path, _key_pem(key))
                _write(self.ca_path, cert.public_bytes(serialization.Encoding.PEM))
                self._save_index(
                    {
                        "version": INDEX_VERSION,
                        "crl_url": crl_url,
                        "crl_number": 0,
                        "cards": {},
                        "revoked": {},
                    }
                )
            index = self._load_index()
            self._publish_crl(index, at)
            self._save_index(index)
            return created

    # Reading -----------------------------------------------------------------------------
    def ca_certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self._read(self.ca_path))

    def crl(self) -> x509.CertificateRevocationList:
        return x509.load_pem_x509_crl(self._read(self.crl_path))

    def cards(self) -> list[CardRecord]:
        index = self._load_index()
        return [_record(card_id, entry, index) for card_id, entry in sorted(index["cards"].items())]

    def card(self, card_id: str) -> CardRecord:
        index = self._load_index()
        return _record(card_id, self._entry(index, card_id), index)

    def cards_of(self, person: str) -> list[CardRecord]:
        return [record for record in self.cards() if record.person == person]

    def card_certificate(self, card_id: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self._read(self.card_dir(card_id) / "cert.pem"))

    def card_key(self, card_id: str) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(
            self._read(self.card_dir(card_id) / "key.pem"), password=None
        )
        if not isinstance(key, rsa.RSAPrivateKey):
            raise DevelopmentPKIError(f"card {card_id}: key.pem is not an RSA key")
        return key

    def previous_certificate(self, card_id: str, serial_number: int) -> x509.Certificate:
        path = self.card_dir(card_id) / "previous" / f"{serial_number:040X}.pem"
        return x509.load_pem_x509_certificate(self._read(path))

    # Writing -----------------------------------------------------------------------------
    def issue(self, *, person: str, birth_date: date, issued_on: date) -> CardRecord:
        """A new card for ``person`` (an opaque reference) with a fresh key and certificate."""
        if not person.strip():
            raise DevelopmentPKIError("a person reference is required")
        with self._locked():
            index = self._load_index()
            card_id = secrets.token_hex(8).upper()
            while card_id in index["cards"]:  # pragma: no cover - 64-bit collision
                card_id = secrets.token_hex(8).upper()
            cert = self._put_new_key(card_id, birth_date=birth_date, issued_on=issued_on)
            index["cards"][card_id] = _entry_for(person, birth_date, issued_on, cert, previous=[])
            self._save_index(index)
            return _record(card_id, index["cards"][card_id], index)

    def renew(
        self, card_id: str, *, issued_on: date, at: datetime, revoke_previous: bool = True
    ) -> CardRecord:
        """更新: a new key and certificate on the same card, valid to the 5th birthday after
        ``issued_on``. The replaced certificate is revoked as ``superseded`` unless told not to."""
        with self._locked():
            index = self._load_index()
            entry = self._entry(index, card_id)
            old_serial = int(entry["serial"], 16)
            directory = self.card_dir(card_id)
            previous = directory / "previous"
            previous.mkdir(mode=0o700, exist_ok=True)
            _write(previous / f"{old_serial:040X}.pem", self._read(directory / "cert.pem"))
            birth_date = date.fromisoformat(entry["birth_date"])
            cert = self._put_new_key(card_id, birth_date=birth_date, issued_on=issued_on)
            index["cards"][card_id] = _entry_for(
                entry["person"],
                birth_date,
                issued_on,
                cert,
                previous=[*entry["previous"], entry["serial"]],
            )
            if revoke_previous and entry["serial"] not in index["revoked"]:
                index["revoked"][entry["serial"]] = {
                    "card": card_id,
                    "revoked_at": at.isoformat(),
                    "reason": x509.ReasonFlags.superseded.name,
                }
                self._publish_crl(index, at)
            self._save_index(index)
            return _record(card_id, index["cards"][card_id], index)

    def revoke(
        self,
        card_id: str,
        *,
        at: datetime,
        reason: str = "key_compromise",
        serial_number: int | None = None,
    ) -> x509.CertificateRevocationList:
        """Revoke the card's current certificate (or an earlier one by serial); re-sign the CRL."""
        if reason not in REVOCATION_REASONS:
            raise DevelopmentPKIError(
                f"unknown revocation reason {reason!r}; use one of {', '.join(REVOCATION_REASONS)}"
            )
        with self._locked():
            index = self._load_index()
            entry = self._entry(index, card_id)
            serials = [entry["serial"], *entry["previous"]]
            serial = entry["serial"] if serial_number is None else f"{serial_number:X}"
            if serial not in serials:
                raise DevelopmentPKIError(f"card {card_id} never held certificate {serial}")
            if serial in index["revoked"]:
                raise DevelopmentPKIError(f"certificate {serial} is already revoked")
            index["revoked"][serial] = {
                "card": card_id,
                "revoked_at": at.isoformat(),
                "reason": reason,
            }
            crl = self._publish_crl(index, at)
            self._save_index(index)
            return crl

    # Internals ---------------------------------------------------------------------------
    def _put_new_key(self, card_id: str, *, birth_date: date, issued_on: date) -> x509.Certificate:
        ca_cert, ca_key, index = self.ca_certificate(), self._ca_key(), self._load_index()
        key = generate_rsa_key()
        cert = build_card_certificate(
            ca_certificate=ca_cert,
            ca_key=ca_key,
            public_key=key.public_key(),
            issued_on=issued_on,
            birth_date=birth_date,
            crl_url=index["crl_url"],
        )
        directory = self.card_dir(card_id)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(directory / "key.pem", _key_pem(key))
        _write(directory / "cert.pem", cert.public_bytes(serialization.Encoding.PEM))
        return cert

    def _publish_crl(self, index: dict[str, Any], at: datetime) -> x509.CertificateRevocationList:
        index["crl_number"] += 1
        entries = [
            RevocationEntry(
                serial_number=int(serial, 16),
                revoked_at=datetime.fromisoformat(item["revoked_at"]),
                reason=REVOCATION_REASONS[item["reason"]],
            )
            for serial, item in index["revoked"].items()
        ]
        crl = build_crl(
            ca_certificate=self.ca_certificate(),
            ca_key=self._ca_key(),
            entries=entries,
            at=at,
            next_update=at + CRL_VALIDITY,
            crl_number=index["crl_number"],
        )
        _write(self.crl_path, crl.public_bytes(serialization.Encoding.PEM))
        return crl

    def _ca_key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self._read(self.ca_key_path), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise DevelopmentPKIError(f"{self.ca_key_path} is not an RSA key")
        return key

    def _entry(self, index: dict[str, Any], card_id: str) -> dict[str, Any]:
        self.card_dir(card_id)  # validates the id
        try:
            entry: dict[str, Any] = index["cards"][card_id]
        except KeyError:
            raise DevelopmentPKIError(f"no card {card_id} in {self.directory}") from None
        return entry

    def _load_index(self) -> dict[str, Any]:
        try:
            index: dict[str, Any] = json.loads(self._read(self.index_path))
        except json.JSONDecodeError as exc:
            raise DevelopmentPKIError(f"{self.index_path} is damaged: {exc}") from None
        if index.get("version") != INDEX_VERSION:
            raise DevelopmentPKIError(f"{self.index_path}: unknown index version")
        return index

    def _save_index(self, index: dict[str, Any]) -> None:
        _write(self.index_path, json.dumps(index, indent=2, sort_keys=True).encode() + b"\n")

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise DevelopmentPKIError(
                f"{path} is missing; run `onshi dev-pki init` first"
            ) from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time (two CLI runs must not both bump the CRL number)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with (self.directory / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _entry_for(
    person: str, birth_date: date, issued_on: date, cert: x509.Certificate, *, previous: list[str]
) -> dict[str, Any]:
    return {
        "person": person,
        "birth_date": birth_date.isoformat(),
        "issued_on": issued_on.isoformat(),
        "serial": f"{cert.serial_number:X}",
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "fingerprint": certificate_fingerprint(cert),
        "previous": previous,
    }


def _record(card_id: str, entry: dict[str, Any], index: dict[str, Any]) -> CardRecord:
    return CardRecord(
        card_id=card_id,
        person=entry["person"],
        birth_date=date.fromisoformat(entry["birth_date"]),
        issued_on=date.fromisoformat(entry["issued_on"]),
        serial_number=int(entry["serial"], 16),
        not_before=datetime.fromisoformat(entry["not_before"]),
        not_after=datetime.fromisoformat(entry["not_after"]),
        fingerprint=entry["fingerprint"],
        revoked=entry["serial"] in index["revoked"],
        previous_serials=tuple(int(serial, 16) for serial in entry["previous"]),
    )


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Atomic replace, so a reader never sees half a file. Owner-only like every data file
    (src/onshi/files.py), certificates and CRLs included."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def _write_private(path: Path, data: bytes) -> None:
    _write(path, data, 0o600)
