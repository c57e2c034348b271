"""Standard PC/SC middleware binds to the VIRTUAL My Number card as to a real one.

OpenSC's ``jpki`` driver (Debian's opensc + opensc-pkcs11) selects the JPKI AP, asks the tries
left of both PINs, lists both sides' certificates and signs with the user-authentication key
after its PIN, through pkcs11-tool → libpcsclite → our private pcscd → vpcd → the virtual card.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pcsc_harness import PcscdHarness

from reader_bridge.readers.base import CardEvent, CardEventKind, Reader
from reader_bridge.virtual_card import VirtualJpkiCard
from reader_bridge.virtual_signature import DEFAULT_SIGN_PIN
from reader_bridge.vpcd import VpcdCardLink

PlaceCard = Callable[..., tuple[VpcdCardLink, str]]
WaitEvent = Callable[..., CardEvent]
AUTH_TOKEN = "JPKI (User Authentication PIN)"
SIGN_TOKEN = "JPKI (Digital Signature PIN)"
MESSAGE = b"signed through standard PKCS#11 middleware"


def _module() -> str:
    found = sorted(glob.glob("/usr/lib/*/opensc-pkcs11.so")) or sorted(
        glob.glob("/usr/lib/opensc-pkcs11.so")
    )
    if not found or shutil.which("pkcs11-tool") is None:
        pytest.fail(
            "OpenSC is missing: make test installs the Debian packages opensc opensc-pkcs11"
        )
    return found[0]


def _tool(pcscd: PcscdHarness, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **pcscd.client_environment()}
    return subprocess.run(
        ["pkcs11-tool", "--module", _module(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _verify(certificate_der: bytes, signature: bytes) -> None:
    key = x509.load_der_x509_certificate(certificate_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())


def _sign(pcscd: PcscdHarness, tmp_path: Path, token: str, pin: str, key_id: str) -> bytes:
    message, signature = tmp_path / "message", tmp_path / f"signature-{key_id}"
    message.write_bytes(MESSAGE)
    result = _tool(
        pcscd,
        "--token-label", token, "--login", "--pin", pin, "--sign", "--id", key_id,
        "-m", "SHA256-RSA-PKCS", "--input-file", str(message), "--output-file", str(signature),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return signature.read_bytes()


@pytest.fixture
def inserted(
    pcsc_reader: Reader, place_card: PlaceCard, wait_event: WaitEvent, card: VirtualJpkiCard
) -> VirtualJpkiCard:
    """The test's virtual card, on the first vpcd reader and seen by pcscd."""
    _link, slot = place_card(card)
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    return card


@pytest.mark.usefixtures("inserted")
def test_opensc_lists_both_sides_of_the_applet(pcscd: PcscdHarness) -> None:
    slots = _tool(pcscd, "--list-slots")
    assert slots.returncode == 0, slots.stderr
    assert AUTH_TOKEN in slots.stdout
    assert SIGN_TOKEN in slots.stdout
    assert "pin min/max        : 4/4" in slots.stdout
    assert "pin min/max        : 6/16" in slots.stdout
    objects = _tool(pcscd, "--list-objects")
    assert objects.returncode == 0, objects.stderr
    for label in (
        "User Authentication Certificate",
        "User Authentication Certificate CA",
        "Digital Signature Certificate CA",
    ):
        assert f"label:      {label}\n" in objects.stdout


def test_opensc_signs_with_the_user_authentication_key(
    pcscd: PcscdHarness, inserted: VirtualJpkiCard, tmp_path: Path
) -> None:
    card = inserted
    signature = _sign(pcscd, tmp_path, AUTH_TOKEN, card.pin, "01")
    _verify(card.certificate_der, signature)
    assert card.tries_left == 3


def test_opensc_signs_with_the_signature_key_under_its_own_pin(
    pcscd: PcscdHarness, inserted: VirtualJpkiCard, tmp_path: Path
) -> None:
    card = inserted
    wrong = _tool(pcscd, "--token-label", SIGN_TOKEN, "--login", "--pin", "WRONG1", "-O")
    assert wrong.returncode != 0
    assert card.signature is not None
    assert card.signature.tries_left == 4
    signature = _sign(pcscd, tmp_path, SIGN_TOKEN, DEFAULT_SIGN_PIN, "02")
    _verify(card.signature.certificate_der, signature)
    assert card.signature.tries_left == 5
    with pytest.raises(InvalidSignature):
        _verify(card.certificate_der, signature)
