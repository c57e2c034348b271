"""The real card path: JpkiCard → pyscard → a private pcscd → vpcd → the virtual card (TCP)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pcsc_harness import PcscdHarness

from reader_bridge.apdu import (
    CardCommunicationError,
    CardRemovedError,
    NotAMyNumberCardError,
    PinLockedError,
    ReaderUnavailableError,
    SecurityStatusNotSatisfiedError,
    WrongPinError,
)
from reader_bridge.jpki import MY_NUMBER_CARD_TOKEN, JpkiCard
from reader_bridge.readers.base import CardEvent, CardEventKind, Reader
from reader_bridge.virtual_card import MY_NUMBER_CARD_ATR, VirtualJpkiCard, VirtualPlainCard
from reader_bridge.vpcd import VpcdCardLink

CHALLENGE = b"portal challenge over PC/SC"
PlaceCard = Callable[..., tuple[VpcdCardLink, str]]
WaitEvent = Callable[..., CardEvent]


def _verify(certificate_der: bytes, signature: bytes, message: bytes) -> None:
    key = x509.load_der_x509_certificate(certificate_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_reads_the_certificate(
    pcsc_reader: Reader, place_card: PlaceCard, wait_event: WaitEvent, card: VirtualJpkiCard
) -> None:
    _link, slot = place_card(card)
    event = wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    assert event.atr == MY_NUMBER_CARD_ATR
    with pcsc_reader.connect(slot) as connection:
        assert connection.atr == MY_NUMBER_CARD_ATR
        identity = JpkiCard(connection).read_identity(with_ca=True)
    assert identity.token == MY_NUMBER_CARD_TOKEN
    assert identity.certificate_der == card.certificate_der
    assert identity.ca_certificate_der == card.ca_certificate_der


def test_pin_and_signature(
    pcsc_reader: Reader, place_card: PlaceCard, wait_event: WaitEvent, card: VirtualJpkiCard
) -> None:
    link, slot = place_card(card)
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    with pcsc_reader.connect(slot) as connection:
        jpki = JpkiCard(connection)
        identity = jpki.read_identity()
        assert jpki.pin_tries_left() == 3
        signature = jpki.authenticate("1234", CHALLENGE)
    _verify(identity.certificate_der, signature, CHALLENGE)
    assert link.apdus >= jpki.counter.commands
    # disconnecting resets the card: a new session must verify the PIN again
    with pcsc_reader.connect(slot) as connection:
        jpki = JpkiCard(connection)
        jpki.select_ap()
        with pytest.raises(SecurityStatusNotSatisfiedError):
            jpki.sign(CHALLENGE)


def test_wrong_pin_counts_down_then_locks(
    pcsc_reader: Reader,
    place_card: PlaceCard,
    wait_event: WaitEvent,
    card: VirtualJpkiCard,
    tmp_path: Path,
) -> None:
    card.save(tmp_path / "card")
    link, slot = place_card(card)
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    with pcsc_reader.connect(slot) as connection:
        jpki = JpkiCard(connection)
        jpki.select_ap()
        tries = []
        for _ in range(2):
            with pytest.raises(WrongPinError) as wrong:
                jpki.verify_pin("9876")
            tries.append(wrong.value.tries_left)
        assert tries == [2, 1]
        with pytest.raises(PinLockedError):
            jpki.verify_pin("9876")
        with pytest.raises(PinLockedError):
            jpki.verify_pin("1234")
    assert json.loads((tmp_path / "card" / "card.json").read_text())["tries_left"] == 0
    # the lock survives taking the card off, and reloading it from disk
    link.remove()
    wait_event(pcsc_reader, CardEventKind.REMOVED, slot)
    reloaded = VirtualJpkiCard.load(tmp_path / "card")
    link.card = reloaded
    link.insert()
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    with pcsc_reader.connect(slot) as connection:
        jpki = JpkiCard(connection)
        jpki.select_ap()
        assert jpki.pin_tries_left() == 0
        with pytest.raises(PinLockedError):
            jpki.authenticate("1234", CHALLENGE)


def test_card_without_jpki_is_rejected(
    pcsc_reader: Reader, place_card: PlaceCard, wait_event: WaitEvent
) -> None:
    _link, slot = place_card(VirtualPlainCard())
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    with pcsc_reader.connect(slot) as connection, pytest.raises(NotAMyNumberCardError):
        JpkiCard(connection).read_identity()


def test_card_removed_mid_flow(
    pcsc_reader: Reader, place_card: PlaceCard, wait_event: WaitEvent, card: VirtualJpkiCard
) -> None:
    link, slot = place_card(card)
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    connection = pcsc_reader.connect(slot)
    try:
        jpki = JpkiCard(connection)
        jpki.read_identity()
        link.remove()  # the patient takes the card before entering the PIN
        with pytest.raises(CardRemovedError):
            jpki.verify_pin("1234")
    finally:
        connection.disconnect()
    wait_event(pcsc_reader, CardEventKind.REMOVED, slot)
    with pytest.raises(CardRemovedError):
        pcsc_reader.connect(slot)
    link.insert()
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    with pcsc_reader.connect(slot) as connection:
        jpki = JpkiCard(connection)
        identity = jpki.read_identity()
        _verify(identity.certificate_der, jpki.authenticate("1234", CHALLENGE), CHALLENGE)


def test_two_readers(
    pcsc_reader: Reader,
    place_card: PlaceCard,
    wait_event: WaitEvent,
    card: VirtualJpkiCard,
    issue_card: Callable[[str], VirtualJpkiCard],
) -> None:
    other = issue_card("5678")
    _, slot_a = place_card(card, 0)
    _, slot_b = place_card(other, 1)
    assert set(pcsc_reader.list_readers()) >= {slot_a, slot_b}
    inserted = {
        pcsc_reader.wait_for_event(5),
        pcsc_reader.wait_for_event(5),
    }
    assert {(e.kind, e.reader) for e in inserted if e} == {
        (CardEventKind.INSERTED, slot_a),
        (CardEventKind.INSERTED, slot_b),
    }
    for slot, expected, pin in ((slot_a, card, "1234"), (slot_b, other, "5678")):
        with pcsc_reader.connect(slot) as connection:
            jpki = JpkiCard(connection)
            identity = jpki.read_identity()
            assert identity.certificate_der == expected.certificate_der
            _verify(identity.certificate_der, jpki.authenticate(pin, CHALLENGE), CHALLENGE)


def test_reader_reconnects_after_pcscd_restart(
    pcsc_reader: Reader,
    place_card: PlaceCard,
    wait_event: WaitEvent,
    card: VirtualJpkiCard,
    pcscd: PcscdHarness,
) -> None:
    link, slot = place_card(card)
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    connection = pcsc_reader.connect(slot)
    JpkiCard(connection).read_identity()

    pcscd.restart()

    with pytest.raises(CardCommunicationError):  # the old session died with the old pcscd
        JpkiCard(connection).read_identity()
    connection.disconnect()
    wait_event(pcsc_reader, CardEventKind.REMOVED, slot)
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)  # the card link reconnected to vpcd
    assert link.connected
    with pcsc_reader.connect(slot) as connection:
        jpki = JpkiCard(connection)
        identity = jpki.read_identity()
        _verify(identity.certificate_der, jpki.authenticate("1234", CHALLENGE), CHALLENGE)
    assert getattr(pcsc_reader, "service_losses", 0) >= 1


def test_service_down_is_reported_then_recovered(
    pcsc_reader: Reader,
    place_card: PlaceCard,
    wait_event: WaitEvent,
    card: VirtualJpkiCard,
    pcscd: PcscdHarness,
) -> None:
    link, slot = place_card(card)
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    pcscd.stop()
    try:
        # the card is reported gone with the service; then waits time out while it is down
        assert pcsc_reader.wait_for_event(2) == CardEvent(CardEventKind.REMOVED, slot)
        assert pcsc_reader.wait_for_event(0.3) is None
        with pytest.raises(ReaderUnavailableError):
            pcsc_reader.list_readers()
        with pytest.raises(ReaderUnavailableError):
            pcsc_reader.connect(slot)
    finally:
        pcscd.start()
    wait_event(pcsc_reader, CardEventKind.INSERTED, slot)
    assert link.connected


def test_close_wakes_a_blocked_waiter(pcsc_reader: Reader) -> None:
    results: list[CardEvent | None] = []
    waiter = threading.Thread(target=lambda: results.append(pcsc_reader.wait_for_event(None)))
    waiter.start()
    time.sleep(0.2)
    pcsc_reader.close()
    waiter.join(timeout=3)
    assert not waiter.is_alive()
    assert results == [None]
