from __future__ import annotations

import pytest

from reader_bridge.apdu import CardRemovedError, ReaderUnavailableError
from reader_bridge.readers import CardEvent, CardEventKind, InProcessReader
from reader_bridge.virtual_card import MY_NUMBER_CARD_ATR, VirtualJpkiCard, VirtualPlainCard


def test_insert_and_remove_events(card: VirtualJpkiCard) -> None:
    reader = InProcessReader(["A", "B"])
    assert reader.list_readers() == ["A", "B"]
    assert reader.wait_for_event(0) is None
    reader.insert(card, "B")
    reader.insert(VirtualPlainCard(), "A")
    reader.remove("B")
    assert reader.wait_for_event(0) == CardEvent(CardEventKind.INSERTED, "B", MY_NUMBER_CARD_ATR)
    assert reader.wait_for_event(0) == CardEvent(
        CardEventKind.INSERTED, "A", VirtualPlainCard().atr
    )
    assert reader.wait_for_event(0) == CardEvent(CardEventKind.REMOVED, "B")
    assert reader.wait_for_event(0.01) is None


def test_connect_needs_a_card(card: VirtualJpkiCard) -> None:
    reader = InProcessReader(["A"])
    with pytest.raises(CardRemovedError):
        reader.connect("A")
    reader.insert(card, "A")
    with pytest.raises(ValueError, match="already holds"):
        reader.insert(card, "A")
    with pytest.raises(KeyError):
        reader.insert(card, "Z")
    with reader.connect("A") as connection:
        assert connection.atr == MY_NUMBER_CARD_ATR
        assert connection.transmit(bytes.fromhex("00CA000000")) == (b"", 0x6D, 0x00)
    with pytest.raises(ReaderUnavailableError):
        connection.transmit(bytes.fromhex("00CA000000"))


def test_close_wakes_a_waiter() -> None:
    reader = InProcessReader()
    reader.close()
    assert reader.wait_for_event(5) is None
