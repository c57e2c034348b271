"""In-process reader: slots that hold VIRTUAL card objects directly (unit tests, demos)."""

from __future__ import annotations

import queue
import threading

from reader_bridge.apdu import CardRemovedError, ReaderUnavailableError
from reader_bridge.readers.base import CardEvent, CardEventKind, Connection, Reader
from reader_bridge.virtual_card import VirtualCard


class InProcessConnection(Connection):
    def __init__(self, reader: InProcessReader, slot: str, card: VirtualCard) -> None:
        self._reader = reader
        self._slot = slot
        self._card = card
        self._open = True
        self.apdus = 0

    @property
    def atr(self) -> bytes:
        return self._card.atr

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        if not self._open:
            raise ReaderUnavailableError("connection closed")
        if self._reader.card_in(self._slot) is not self._card:
            raise CardRemovedError(f"card removed from {self._slot}")
        self.apdus += 1
        response = self._card.process_apdu(bytes(apdu))
        return response[:-2], response[-2], response[-1]

    def disconnect(self) -> None:
        self._open = False


class InProcessReader(Reader):
    """Named slots; `insert` / `remove` put cards on and off, as a patient would."""

    def __init__(self, slots: list[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, VirtualCard | None] = dict.fromkeys(slots or ["Virtual Reader 0"])
        self._events: queue.Queue[CardEvent | None] = queue.Queue()
        self._closed = False

    def list_readers(self) -> list[str]:
        with self._lock:
            return list(self._slots)

    def card_in(self, slot: str) -> VirtualCard | None:
        with self._lock:
            return self._slots.get(slot)

    def insert(self, card: VirtualCard, slot: str | None = None) -> None:
        with self._lock:
            slot = slot or next(iter(self._slots))
            if slot not in self._slots:
                raise KeyError(f"no slot named {slot!r}")
            if self._slots[slot] is not None:
                raise ValueError(f"slot {slot!r} already holds a card")
            card.power_on()
            self._slots[slot] = card
        self._events.put(CardEvent(CardEventKind.INSERTED, slot, card.atr))

    def remove(self, slot: str | None = None) -> None:
        with self._lock:
            slot = slot or next(iter(self._slots))
            card = self._slots.get(slot)
            if card is None:
                return
            self._slots[slot] = None
            card.power_off()
        self._events.put(CardEvent(CardEventKind.REMOVED, slot))

    def wait_for_event(self, timeout: float | None = None) -> CardEvent | None:
        if self._closed:
            return None
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def connect(self, reader: str) -> InProcessConnection:
        card = self.card_in(reader)
        if card is None:
            raise CardRemovedError(f"no card in {reader}")
        return InProcessConnection(self, reader, card)

    def close(self) -> None:
        self._closed = True
        self._events.put(None)
