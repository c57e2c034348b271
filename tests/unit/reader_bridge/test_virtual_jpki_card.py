"""The virtual JPKI applet answers status words like the real one and persists its PIN counter."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, utils

from reader_bridge.apdu import PinLockedError, WrongPinError
from reader_bridge.jpki import JpkiCard, sha256_digest_info
from reader_bridge.readers.inprocess import InProcessReader
from reader_bridge.virtual_card import (
    MY_NUMBER_CARD_ATR,
    VirtualJpkiCard,
    _pkcs1_v15_sign_raw,
)

SELECT_AP = "00A4040C0AD392F000260100000001"


def exchange(card: VirtualJpkiCard, *commands: str) -> str:
    """Send each command; return the last response as hex (upper case)."""
    response = b""
    for command in commands:
        response = card.process_apdu(bytes.fromhex(command))
    return response.hex().upper()


def sw(card: VirtualJpkiCard, *commands: str) -> str:
    return exchange(card, *commands)[-4:]


def test_atr(card: VirtualJpkiCard) -> None:
    assert card.atr == MY_NUMBER_CARD_ATR
    assert card.atr.hex().upper() == "3BE000FF8131FE4514"


@pytest.mark.parametrize(
    ("commands", "status"),
    [
        ([SELECT_AP], "9000"),
        (["00A4040C0AD392F000260100000002"], "6A82"),  # another AID
        (["00A4020C020017"], "6A82"),  # EF before the AP
        ([SELECT_AP, "00A4020C020099"], "6A82"),  # unknown EF
        ([SELECT_AP, "00A4030C020006"], "6B00"),  # wrong P1
        ([SELECT_AP, "00A40204020006"], "6B00"),  # wrong P2
        ([SELECT_AP, "00CA000000"], "6D00"),  # unknown instruction
        ([SELECT_AP, "10A4040C0AD392F000260100000001"], "6E00"),  # unknown class
        ([SELECT_AP, "00B0000004"], "6986"),  # READ BINARY without a current EF
        ([SELECT_AP, "00A4020C020017", "00B0000004"], "6981"),  # the key cannot be read
        ([SELECT_AP, "00A4020C020006", "00B0010000"], "6B00"),  # offset past the end
        ([SELECT_AP, "00A4020C020018", "00200081"], "6B00"),  # VERIFY wrong P2
        ([SELECT_AP, "00A4020C020006", "00200080"], "6986"),  # VERIFY on the wrong EF
        ([SELECT_AP, "00A4020C020018", "0020008003313233"], "6700"),  # 3-byte PIN
        ([SELECT_AP, "00A4020C020018", "00200080"], "63C3"),  # tries left
        ([SELECT_AP, "00A4020C020017", "802A00800101" + "00"], "6982"),  # no VERIFY yet
        ([SELECT_AP, "00A4020C020006", "802A00800101" + "00"], "6986"),  # not the key EF
        ([SELECT_AP, "00A4020C020017", "802A00810101" + "00"], "6B00"),  # wrong P2
        ([SELECT_AP, "00A4020C020017", "002A00800101" + "00"], "6E00"),  # needs CLA 80
        (["00A4"], "6700"),  # malformed
    ],
)
def test_status_words(card: VirtualJpkiCard, commands: list[str], status: str) -> None:
    assert sw(card, *commands) == status


def test_read_binary_with_offsets_and_end_of_file(card: VirtualJpkiCard) -> None:
    der = card.certificate_der
    response = exchange(card, SELECT_AP, "00A4020C02000A", "00B0000A05")
    assert response == der[10:15].hex().upper() + "9000"
    offset = len(der) - 3
    response = exchange(card, f"00B0{offset:04X}10")
    assert response == der[offset:].hex().upper() + "6282"


def test_token_is_space_padded(card: VirtualJpkiCard) -> None:
    response = exchange(card, SELECT_AP, "00A4020C020006", "00B0000020")
    assert bytes.fromhex(response[:-4]) == b"JPKIAPICCTOKEN2".ljust(32, b" ")


def test_signature_needs_key_ef_selected_after_verify(card: VirtualJpkiCard) -> None:
    digest_info = "3031300d060960864801650304020105000420" + "00" * 32
    assert sw(card, SELECT_AP, "00A4020C020018", "002000800431323334") == "9000"
    assert sw(card, "00A4020C020017", "802A008033" + digest_info + "00") == "9000"
    assert sw(card, "00A4020C020017", "802A0080" + "F6" + "00" * 0xF6 + "00") == "6A80"
    card.power_on()  # reset: the verification does not survive it
    assert sw(card, SELECT_AP, "00A4020C020017", "802A008033" + digest_info + "00") == "6982"


def test_pin_counter_persists_in_card_json(card: VirtualJpkiCard, tmp_path: Path) -> None:
    card.save(tmp_path / "card")
    assert sorted(p.name for p in (tmp_path / "card").iterdir()) == [
        "ca.pem", "card.json", "cert.pem", "key.pem", "sign-ca.pem", "sign-cert.pem",
        "sign-key.pem",
    ]  # fmt: skip
    assert json.loads((tmp_path / "card" / "card.json").read_text()) == {
        "pin": "1234", "tries_left": 3, "token": "JPKIAPICCTOKEN2", "sign_pin": "ONSHI2026",
        "sign_tries_left": 5,
    }  # fmt: skip
    reader = InProcessReader()
    reader.insert(card)
    jpki = JpkiCard(reader.connect(reader.list_readers()[0]))
    jpki.select_ap()
    with pytest.raises(WrongPinError):
        jpki.verify_pin("0000")
    with pytest.raises(WrongPinError):
        jpki.verify_pin("0000")
    reloaded = VirtualJpkiCard.load(tmp_path / "card")
    assert reloaded.tries_left == 1
    assert reloaded.certificate_der == card.certificate_der
    assert reloaded.ca_certificate_der == card.ca_certificate_der
    with pytest.raises(PinLockedError):
        jpki.verify_pin("0000")
    locked = VirtualJpkiCard.load(tmp_path / "card")
    assert locked.tries_left == 0
    assert sw(locked, SELECT_AP, "00A4020C020018", "002000800431323334") == "6983"


def test_loads_the_dev_pki_layout(card: VirtualJpkiCard, tmp_path: Path) -> None:
    """cards/<card-id>/{cert.pem,key.pem} with ca.pem at the top, and no card.json yet."""
    card.save(tmp_path / "full")
    card_dir = tmp_path / "pki" / "cards" / "card-0001"
    card_dir.mkdir(parents=True)
    for name in ("cert.pem", "key.pem"):
        (card_dir / name).write_bytes((tmp_path / "full" / name).read_bytes())
    (tmp_path / "pki" / "ca.pem").write_bytes((tmp_path / "full" / "ca.pem").read_bytes())
    with pytest.raises(ValueError, match=r"card\.json"):
        VirtualJpkiCard.load(card_dir, ca_path=tmp_path / "pki" / "ca.pem")
    loaded = VirtualJpkiCard.load(card_dir, ca_path=tmp_path / "pki" / "ca.pem", pin="5678")
    assert (loaded.pin, loaded.tries_left) == ("5678", 3)
    assert sw(loaded, SELECT_AP, "00A4020C020018", "002000800430303030") == "63C2"
    assert json.loads((card_dir / "card.json").read_text())["tries_left"] == 2


def test_rejects_non_rsa_keys(card: VirtualJpkiCard, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    card.save(tmp_path)
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError, match="not an RSA private key"):
        VirtualJpkiCard.load(tmp_path)


@pytest.mark.parametrize(("pin", "tries"), [("123", 3), ("12a4", 3), ("1234", 4), ("1234", -1)])
def test_card_state_is_validated(
    make_card: Callable[..., VirtualJpkiCard], pin: str, tries: int
) -> None:
    with pytest.raises(ValueError, match=r"PIN|tries_left"):
        make_card(pin=pin, tries_left=tries)


def test_generic_and_sha256_signing_paths_agree(card: VirtualJpkiCard) -> None:
    digest_info = sha256_digest_info(b"message")
    fast = exchange(card, SELECT_AP, "00A4020C020018", "002000800431323334", "00A4020C020017",
                    "802A008033" + digest_info.hex() + "00")  # fmt: skip
    assert fast[-4:] == "9000"
    assert bytes.fromhex(fast[:-4]) == _pkcs1_v15_sign_raw(card.private_key, digest_info)
    sha512_info = bytes.fromhex("3051300d060960864801650304020305000440") + bytes(64)
    generic = exchange(card, "802A008053" + sha512_info.hex() + "00")
    key = card.private_key.public_key()
    key.verify(
        bytes.fromhex(generic[:-4]), bytes(64), padding.PKCS1v15(), utils.Prehashed(hashes.SHA512())
    )
