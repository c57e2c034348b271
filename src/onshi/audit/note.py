"""Signed checkpoints: the C2SP tlog-checkpoint body inside a C2SP signed note, Ed25519.

Checkpoint body (text, each line ending in a newline)::

    <origin>
    <tree size, decimal>
    <root hash, standard base64>

Signed note: the body, one empty line, then one signature line per signer::

    — <key name> <base64(key ID (4 bytes) || Ed25519 signature (64 bytes))>

The signature is over the body bytes (UTF-8, final newline included). The key ID is the first
four bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key); 0x01 is the Ed25519
signature type. Keys are written as in the signed-note ecosystem:
``<name>+<key ID hex>+<base64(0x01 || public key)>`` (verifier) and
``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || 32-byte seed)>`` (signer).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # EM DASH, SPACE


class NoteError(ValueError):
    """A note, checkpoint or key that cannot be read, or whose signature does not verify."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError("a key name must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class Verifier:
    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def encode(self) -> str:
        raw = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{raw}"

    @classmethod
    def decode(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)  # base64 may hold '+': split at the first two only
        if len(parts) != 3:
            raise NoteError("a verifier key is <name>+<key id hex>+<base64 key>")
        name, hex_id, raw = parts
        _check_name(name)
        key = _b64(raw)
        if len(key) != 33 or key[0] != ED25519:
            raise NoteError("only Ed25519 verifier keys are supported")
        verifier = cls(name, key[1:])
        if verifier.key_id.hex() != hex_id.lower():
            raise NoteError("the verifier key's ID does not match its name and key")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes

    @property
    def verifier(self) -> Verifier:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return Verifier(self.name, public)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def encode(self) -> str:
        raw = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{raw}"

    @classmethod
    def decode(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signing key is PRIVATE+KEY+<name>+<key id hex>+<base64 key>")
        name, hex_id, raw = parts[2:]
        _check_name(name)
        key = _b64(raw)
        if len(key) != 33 or key[0] != ED25519:
            raise NoteError("only Ed25519 signing keys are supported")
        signer = cls(name, key[1:])
        if signer.verifier.key_id.hex() != hex_id.lower():
            raise NoteError("the signing key's ID does not match its name and key")
        return signer

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root_hash).decode()}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint body is origin, size and root hash lines")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not origin or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
            raise NoteError("a checkpoint needs an origin and a decimal tree size")
        root = _b64(root_text)
        if len(root) != 32:
            raise NoteError("a checkpoint root hash is 32 bytes")
        return cls(origin, int(size_text), root)


def sign_checkpoint(signer: Signer, checkpoint: Checkpoint) -> str:
    body = checkpoint.body()
    signature = signer.verifier.key_id + signer.sign(body.encode())
    return f"{body}\n{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(signature).decode()}\n"


def open_checkpoint(note: str, verifier: Verifier, origin: str) -> Checkpoint:
    """Check the note's signature by ``verifier`` and return its checkpoint. Signature lines by
    other keys (a witness's cosignatures) are allowed and ignored."""
    body, sep, signatures = note.partition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("a signed note is a body, an empty line and signature lines")
    body += "\n"
    found = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = _b64(encoded)
        if name != verifier.name or len(raw) != 68 or raw[:4] != verifier.key_id:
            continue
        if not verifier.verify(body.encode(), raw[4:]):
            raise NoteError("the checkpoint's signature does not verify")
        found = True
    if not found:
        raise NoteError("the checkpoint is not signed by the log's key")
    checkpoint = Checkpoint.parse(body)
    if checkpoint.origin != origin:
        raise NoteError("the checkpoint's origin is not the log's")
    return checkpoint


def split_notes(text: str) -> list[str]:
    """The notes of an export file: each note followed by one empty line."""
    notes = []
    blocks = [block for block in text.split("\n\n") if block.strip()]
    if len(blocks) % 2:
        raise NoteError("the checkpoint file ends in the middle of a note")
    for body, signatures in zip(blocks[::2], blocks[1::2], strict=True):
        notes.append(f"{body.lstrip(chr(10))}\n\n{signatures.strip(chr(10))}\n")
    return notes


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("invalid base64") from None
