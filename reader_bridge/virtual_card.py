"""A VIRTUAL My Number card: an emulator of the JPKI applet, for tests and demos only.

It answers the same APDUs as the real applet byte for byte (SELECT by AID and EF, READ BINARY
with offsets, VERIFY with a 3-try counter, COMPUTE DIGITAL SIGNATURE with PKCS#1 v1.5), for both
key pairs of the applet: the user-authentication side the portal uses and the signature side
(`reader_bridge.virtual_signature`) that standard PC/SC middleware binds to. It runs either
in process (`InProcessReader`) or attached to vsmartcard's vpcd driver over TCP
(`reader_bridge.vpcd.VpcdCardLink`), so the real pyscard → pcscd path can be exercised.

A card can be saved to and loaded from a directory::

    cert.pem  user-authentication certificate      key.pem  its RSA private key (PKCS#8)
    ca.pem    the issuing CA certificate           card.json {"pin": "1234", "tries_left": 3,
    sign-cert.pem, sign-ca.pem, sign-key.pem                  "sign_pin": …, "sign_tries_left": 5}
              the signature side

Both PIN counters are written back to card.json on every change, so a locked card stays locked.
A card made or loaded without a signature side gets one the first time a host touches it (a
fresh VIRTUAL pair with the documented default signature PIN), as if it had been issued so.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from reader_bridge.apdu import (
    SW_CLA_NOT_SUPPORTED,
    SW_END_OF_FILE,
    SW_FILE_NOT_FOUND,
    SW_INCOMPATIBLE_FILE,
    SW_INS_NOT_SUPPORTED,
    SW_NO_CURRENT_EF,
    SW_OK,
    SW_PIN_BLOCKED,
    SW_SECURITY_STATUS_NOT_SATISFIED,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    CommandAPDU,
    MalformedApduError,
    ResponseAPDU,
)
from reader_bridge.jpki import (
    EF_AUTH_CA_CERTIFICATE,
    EF_AUTH_CERTIFICATE,
    EF_AUTH_PIN,
    EF_AUTH_PRIVATE_KEY,
    EF_SIGN_CA_CERTIFICATE,
    EF_SIGN_CERTIFICATE,
    EF_SIGN_PIN,
    EF_SIGN_PRIVATE_KEY,
    EF_TOKEN,
    JPKI_AID,
    MY_NUMBER_CARD_TOKEN,
    PIN_MAX_TRIES,
    SHA256_DIGEST_INFO_PREFIX,
    SIGN_PIN_MAX_LENGTH,
    SIGN_PIN_MAX_TRIES,
    SIGN_PIN_MIN_LENGTH,
    TOKEN_LENGTH,
)
from reader_bridge.virtual_signature import DEFAULT_SIGN_PIN, SignatureSide

MY_NUMBER_CARD_ATR = bytes.fromhex("3BE000FF8131FE4514")
CARD_STATE_FILE = "card.json"
_APPLET_EFS = frozenset(
    {
        EF_TOKEN,
        EF_AUTH_CERTIFICATE,
        EF_AUTH_CA_CERTIFICATE,
        EF_AUTH_PRIVATE_KEY,
        EF_AUTH_PIN,
        EF_SIGN_CERTIFICATE,
        EF_SIGN_CA_CERTIFICATE,
        EF_SIGN_PRIVATE_KEY,
        EF_SIGN_PIN,
    }
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class VirtualCard(Protocol):
    """What a reader (in-process or vpcd) needs from an emulated card."""

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> None: ...

    def power_off(self) -> None: ...

    def process_apdu(self, apdu: bytes) -> bytes: ...


def _status(sw: int, data: bytes = b"") -> bytes:
    return ResponseAPDU.status(sw, data).to_bytes()


def _pkcs1_v15_sign_raw(key: rsa.RSAPrivateKey, digest_info: bytes) -> bytes | None:
    """EMSA-PKCS1-v1_5 padding of an arbitrary DigestInfo, then RSA with CRT (as the card does).

    Returns None when the DigestInfo does not fit the modulus (k - 11 bytes at most)."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    k = (n.bit_length() + 7) // 8
    if len(digest_info) > k - 11:
        return None
    encoded = b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info)) + b"\x00" + digest_info
    m = int.from_bytes(encoded, "big")
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    signature = s2 + h * numbers.q
    if pow(signature, numbers.public_numbers.e, n) != m:  # fault check, as real cards do
        raise RuntimeError("virtual card RSA self-check failed")
    return signature.to_bytes(k, "big")


@dataclass
class VirtualJpkiCard:
    """A virtual My Number card with the JPKI applet (both sides)."""

    certificate_der: bytes
    ca_certificate_der: bytes
    private_key: rsa.RSAPrivateKey
    pin: str
    tries_left: int = PIN_MAX_TRIES
    token: str = MY_NUMBER_CARD_TOKEN
    directory: Path | None = None  # where card.json is persisted, if loaded from / saved to disk
    atr: bytes = MY_NUMBER_CARD_ATR
    signature: SignatureSide | None = None
    # session state, cleared at power on / reset
    _ap_selected: bool = field(default=False, init=False, repr=False)
    _current_ef: int | None = field(default=None, init=False, repr=False)
    _pin_verified: bool = field(default=False, init=False, repr=False)
    _sign_pin_verified: bool = field(default=False, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.pin) != 4 or not self.pin.isascii() or not self.pin.isdigit():
            raise ValueError("a virtual card PIN is 4 ASCII digits")
        if not 0 <= self.tries_left <= PIN_MAX_TRIES:
            raise ValueError(f"tries_left must be 0..{PIN_MAX_TRIES}")

    # -- persistence ----------------------------------------------------------------------------

    @classmethod
    def load(
        cls, directory: Path, *, ca_path: Path | None = None, pin: str | None = None
    ) -> VirtualJpkiCard:
        """Load a card directory. `ca_path` defaults to directory/ca.pem. Without card.json the
        PIN must be given; the file is then created on the first PIN counter change."""
        directory = Path(directory)
        certificate = x509.load_pem_x509_certificate((directory / "cert.pem").read_bytes())
        ca = x509.load_pem_x509_certificate((ca_path or directory / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((directory / "key.pem").read_bytes(), None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{directory / 'key.pem'} is not an RSA private key")
        state_file = directory / CARD_STATE_FILE
        tries = PIN_MAX_TRIES
        token = MY_NUMBER_CARD_TOKEN
        sign_pin, sign_tries = DEFAULT_SIGN_PIN, SIGN_PIN_MAX_TRIES
        if state_file.exists():
            state = json.loads(state_file.read_text(encoding="utf-8"))
            pin = str(state["pin"])
            tries = int(state.get("tries_left", PIN_MAX_TRIES))
            token = str(state.get("token", MY_NUMBER_CARD_TOKEN))
            sign_pin = str(state.get("sign_pin", DEFAULT_SIGN_PIN))
            sign_tries = int(state.get("sign_tries_left", SIGN_PIN_MAX_TRIES))
        elif pin is None:
            raise ValueError(f"{state_file} is missing and no PIN was given")
        return cls(
            certificate_der=certificate.public_bytes(serialization.Encoding.DER),
            ca_certificate_der=ca.public_bytes(serialization.Encoding.DER),
            private_key=key,
            pin=pin,
            tries_left=tries,
            token=token,
            directory=directory,
            signature=SignatureSide.load(directory, pin=sign_pin, tries_left=sign_tries),
        )

    def save(self, directory: Path) -> None:
        """Write the card to `directory` (cert.pem, key.pem, ca.pem, card.json)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        pem = serialization.Encoding.PEM
        certificate = x509.load_der_x509_certificate(self.certificate_der)
        ca = x509.load_der_x509_certificate(self.ca_certificate_der)
        (directory / "cert.pem").write_bytes(certificate.public_bytes(pem))
        (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
        key_pem = self.private_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key_file = directory / "key.pem"
        key_file.write_bytes(key_pem)
        key_file.chmod(0o600)
        self._signature_side().save(directory)
        self.directory = directory
        self._persist_state()

    def _signature_side(self) -> SignatureSide:
        if self.signature is None:
            self.signature = SignatureSide.generate(_now())
            if self.directory is not None:
                self.signature.save(self.directory)
                self._persist_state()
        return self.signature

    def _persist_state(self) -> None:
        if self.directory is None:
            return
        state: dict[str, object] = {
            "pin": self.pin,
            "tries_left": self.tries_left,
            "token": self.token,
        }
        if self.signature is not None:
            state["sign_pin"] = self.signature.pin
            state["sign_tries_left"] = self.signature.tries_left
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".card-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(tmp, self.directory / CARD_STATE_FILE)

    # -- power ----------------------------------------------------------------------------------

    def power_on(self) -> None:
        with self._lock:
            self._reset_session()

    def power_off(self) -> None:
        with self._lock:
            self._reset_session()

    def _reset_session(self) -> None:
        self._ap_selected = False
        self._current_ef = None
        self._pin_verified = False
        self._sign_pin_verified = False

    # -- APDU processing ------------------------------------------------------------------------

    def process_apdu(self, apdu: bytes) -> bytes:
        try:
            command = CommandAPDU.from_bytes(apdu)
        except MalformedApduError:
            return _status(SW_WRONG_LENGTH)
        with self._lock:
            return self._dispatch(command)

    def _dispatch(self, c: CommandAPDU) -> bytes:
        if c.cla == 0x00:
            if c.ins == 0xA4:
                return self._select(c)
            if c.ins == 0xB0:
                return self._read_binary(c)
            if c.ins == 0x20:
                return self._verify(c)
            if c.ins == 0x2A:
                return _status(SW_CLA_NOT_SUPPORTED)
            return _status(SW_INS_NOT_SUPPORTED)
        if c.cla == 0x80:
            if c.ins == 0x2A:
                return self._compute_signature(c)
            return _status(SW_INS_NOT_SUPPORTED)
        return _status(SW_CLA_NOT_SUPPORTED)

    def _file(self, ef: int) -> bytes | None:
        """The content of a readable EF (None for keys and PINs)."""
        if ef == EF_TOKEN:
            return self.token.encode("ascii").ljust(TOKEN_LENGTH, b" ")
        if ef == EF_AUTH_CERTIFICATE:
            return self.certificate_der
        if ef == EF_AUTH_CA_CERTIFICATE:
            return self.ca_certificate_der
        if ef == EF_SIGN_CERTIFICATE:
            return self._signature_side().certificate_der
        if ef == EF_SIGN_CA_CERTIFICATE:
            return self._signature_side().ca_certificate_der
        return None

    def _select(self, c: CommandAPDU) -> bytes:
        if c.p2 not in (0x0C, 0x00):
            return _status(SW_WRONG_P1P2)
        if c.p1 == 0x04:  # by DF name (AID)
            if c.data != JPKI_AID:
                return _status(SW_FILE_NOT_FOUND)
            self._ap_selected = True
            self._current_ef = None
            return _status(SW_OK)
        if c.p1 == 0x02:  # EF under the current DF
            if len(c.data) != 2:
                return _status(SW_WRONG_LENGTH)
            ef = int.from_bytes(c.data, "big")
            if not self._ap_selected or ef not in _APPLET_EFS:
                return _status(SW_FILE_NOT_FOUND)
            self._current_ef = ef
            return _status(SW_OK)
        return _status(SW_WRONG_P1P2)

    def _read_binary(self, c: CommandAPDU) -> bytes:
        if c.data:
            return _status(SW_WRONG_LENGTH)
        if c.p1 & 0x80:  # short EF identifier addressing: not offered by this applet
            return _status(SW_WRONG_P1P2)
        if self._current_ef is None:
            return _status(SW_NO_CURRENT_EF)
        if self._current_ef == EF_SIGN_CERTIFICATE and not self._sign_pin_verified:
            return _status(SW_SECURITY_STATUS_NOT_SATISFIED)  # holds the 4 basic items
        content = self._file(self._current_ef)
        if content is None:  # key or PIN EF
            return _status(SW_INCOMPATIBLE_FILE)
        offset = (c.p1 << 8) | c.p2
        if offset > len(content):
            return _status(SW_WRONG_P1P2)
        wanted = c.le or 256
        chunk = content[offset : offset + wanted]
        if len(chunk) < wanted:
            return _status(SW_END_OF_FILE, chunk)
        return _status(SW_OK, chunk)

    def _verify(self, c: CommandAPDU) -> bytes:
        if c.p1 != 0x00 or c.p2 != 0x80:
            return _status(SW_WRONG_P1P2)
        if self._current_ef == EF_AUTH_PIN:
            return self._verify_auth_pin(c.data)
        if self._current_ef == EF_SIGN_PIN:
            return self._verify_sign_pin(c.data)
        return _status(SW_NO_CURRENT_EF)

    def _verify_auth_pin(self, data: bytes) -> bytes:
        if self.tries_left == 0:
            return _status(SW_PIN_BLOCKED)
        if not data:  # status query
            if self._pin_verified:
                return _status(SW_OK)
            return _status(0x63C0 | self.tries_left)
        if len(data) != 4:
            return _status(SW_WRONG_LENGTH)
        if hmac.compare_digest(data, self.pin.encode("ascii")):
            self._pin_verified = True
            if self.tries_left != PIN_MAX_TRIES:
                self.tries_left = PIN_MAX_TRIES
                self._persist_state()
            return _status(SW_OK)
        self._pin_verified = False
        self.tries_left -= 1
        self._persist_state()
        return _status(0x63C0 | self.tries_left)

    def _verify_sign_pin(self, data: bytes) -> bytes:
        side = self._signature_side()
        if side.tries_left == 0:
            return _status(SW_PIN_BLOCKED)
        if not data:
            if self._sign_pin_verified:
                return _status(SW_OK)
            return _status(0x63C0 | side.tries_left)
        if not SIGN_PIN_MIN_LENGTH <= len(data) <= SIGN_PIN_MAX_LENGTH:
            return _status(SW_WRONG_LENGTH)
        if hmac.compare_digest(data, side.pin.encode("ascii")):
            self._sign_pin_verified = True
            if side.tries_left != SIGN_PIN_MAX_TRIES:
                side.tries_left = SIGN_PIN_MAX_TRIES
                self._persist_state()
            return _status(SW_OK)
        self._sign_pin_verified = False
        side.tries_left -= 1
        self._persist_state()
        return _status(0x63C0 | side.tries_left)

    def _compute_signature(self, c: CommandAPDU) -> bytes:
        if c.p1 != 0x00 or c.p2 != 0x80:
            return _status(SW_WRONG_P1P2)
        if self._current_ef == EF_AUTH_PRIVATE_KEY:
            key, verified = self.private_key, self._pin_verified
        elif self._current_ef == EF_SIGN_PRIVATE_KEY:
            key, verified = self._signature_side().private_key, self._sign_pin_verified
        else:
            return _status(SW_NO_CURRENT_EF)
        if not verified:
            return _status(SW_SECURITY_STATUS_NOT_SATISFIED)
        if not c.data:
            return _status(SW_WRONG_LENGTH)
        if len(c.data) == 51 and c.data.startswith(SHA256_DIGEST_INFO_PREFIX):
            # the usual case; same bytes as the generic path (PKCS#1 v1.5 is deterministic)
            signature: bytes | None = key.sign(
                c.data[19:], padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
            )
        else:
            signature = _pkcs1_v15_sign_raw(key, c.data)
        if signature is None:
            return _status(SW_WRONG_DATA)
        if c.le is not None and c.le < len(signature):
            return _status(0x6C00 | (len(signature) & 0xFF))
        return _status(SW_OK, signature)


@dataclass
class VirtualPlainCard:
    """A VIRTUAL card with no JPKI applet (e.g. a transit or bank card): every SELECT fails."""

    atr: bytes = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")

    def power_on(self) -> None:
        return None

    def power_off(self) -> None:
        return None

    def process_apdu(self, apdu: bytes) -> bytes:
        try:
            command = CommandAPDU.from_bytes(apdu)
        except MalformedApduError:
            return _status(SW_WRONG_LENGTH)
        if command.ins == 0xA4:
            return _status(SW_FILE_NOT_FOUND)
        return _status(SW_INS_NOT_SUPPORTED)
