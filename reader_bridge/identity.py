"""The bridge's device identity: its Ed25519 key and pairing record, in the state directory.

    <state_dir>/device-key.pem   Ed25519 private key (PKCS#8 PEM), mode 0600
    <state_dir>/device.json      {"device_id", "portal", "label", "institution": {"code", "name"}}

The key is generated at pairing and never leaves this directory; only its public half is sent.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_FILE = "device-key.pem"
DEVICE_FILE = "device.json"


class NotPairedError(RuntimeError):
    """No pairing record in the state directory."""


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: int
    private_key: Ed25519PrivateKey
    portal: str
    label: str
    institution_code: str
    institution_name: str

    def public_key_raw(self) -> bytes:
        return public_key_raw(self.private_key)


def public_key_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_identity(
    state_dir: Path,
    key: Ed25519PrivateKey,
    *,
    device_id: int,
    portal: str,
    label: str,
    institution: dict[str, Any],
) -> DeviceIdentity:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_atomic(state_dir / KEY_FILE, pem, 0o600)
    record = {
        "device_id": device_id,
        "portal": portal,
        "label": label,
        "institution": {
            "code": str(institution.get("code", "")),
            "name": str(institution.get("name", "")),
        },
    }
    _write_atomic(
        state_dir / DEVICE_FILE,
        json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8"),
        0o600,
    )
    return load_identity(state_dir)


def load_identity(state_dir: Path) -> DeviceIdentity:
    record_path = state_dir / DEVICE_FILE
    key_path = state_dir / KEY_FILE
    if not record_path.exists() or not key_path.exists():
        raise NotPairedError(
            f"this reader is not paired (no {DEVICE_FILE} in {state_dir}): run "
            "`reader-bridge pair --portal URL --code CODE --label NAME`"
        )
    if key_path.stat().st_mode & 0o077:
        raise PermissionError(f"{key_path} must be readable by its owner only (chmod 600)")
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{key_path} is not an Ed25519 key")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    institution = record.get("institution") or {}
    return DeviceIdentity(
        device_id=int(record["device_id"]),
        private_key=key,
        portal=str(record["portal"]),
        label=str(record.get("label", "")),
        institution_code=str(institution.get("code", "")),
        institution_name=str(institution.get("name", "")),
    )


def forget_identity(state_dir: Path) -> None:
    """Remove the pairing (after the portal revoked the device, or before re-pairing)."""
    for name in (DEVICE_FILE, KEY_FILE):
        (state_dir / name).unlink(missing_ok=True)
