"""The reader interface the bridge drives, whatever is behind it."""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass


class CardEventKind(enum.Enum):
    INSERTED = "inserted"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class CardEvent:
    kind: CardEventKind
    reader: str
    atr: bytes = b""


class Connection(abc.ABC):
    """A session with the card in one reader. `transmit` raises `CardRemovedError` when the card
    has gone and `CardCommunicationError` (or `ReaderUnavailableError`) for other failures."""

    @property
    @abc.abstractmethod
    def atr(self) -> bytes: ...

    @abc.abstractmethod
    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]: ...

    @abc.abstractmethod
    def disconnect(self) -> None: ...

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()


class Reader(abc.ABC):
    """All card-reader slots visible to the bridge.

    `wait_for_event` reports card insertions and removals one at a time; a card already present
    when the reader is first watched is reported as inserted.
    """

    @abc.abstractmethod
    def list_readers(self) -> list[str]: ...

    @abc.abstractmethod
    def wait_for_event(self, timeout: float | None = None) -> CardEvent | None:
        """Block until a card is inserted or removed (or `timeout` seconds pass: None)."""

    @abc.abstractmethod
    def connect(self, reader: str) -> Connection:
        """Open a session with the card in `reader`; raises `CardRemovedError` if none is there."""

    def close(self) -> None:
        """Release resources; a blocked `wait_for_event` returns None."""
        return

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
