"""PC/SC reader over pyscard's low-level `smartcard.scard` API (pcscd on Linux).

The monitor keeps one PC/SC context for `SCardGetStatusChange` (all readers plus the PnP
pseudo-reader, so readers plugged in later are seen). When pcscd stops or restarts, every call
on the old context fails: the context is dropped, cards believed present are reported removed,
and a new context is established with exponential backoff until the service is back. Each
connection has its own context, so a session never races the monitor.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any

from reader_bridge.apdu import CardCommunicationError, CardRemovedError, ReaderUnavailableError
from reader_bridge.readers.base import CardEvent, CardEventKind, Connection, Reader

try:
    from smartcard import scard
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the PC/SC reader needs pyscard: pip install 'onshi[reader]' "
        "(building it needs the Debian packages libpcsclite-dev and swig)"
    ) from exc

LOG = logging.getLogger(__name__)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
_SERVICE_GONE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_F_COMM_ERROR,
    scard.SCARD_E_INVALID_HANDLE,
    scard.SCARD_F_INTERNAL_ERROR,
}
_CARD_GONE = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_W_UNPOWERED_CARD,
}
_MAX_WAIT_MS = 1000
REMOVAL_GRACE_MS = 600  # bound each blocking call so close() and deadlines are honoured


def _error(rv: int) -> str:
    return f"{scard.SCardGetErrorMessage(rv)} ({rv & 0xFFFFFFFF:08X})"


def _present(state: int) -> bool:
    return bool(state & scard.SCARD_STATE_PRESENT) and not state & scard.SCARD_STATE_MUTE


class PcscConnection(Connection):
    def __init__(self, context: Any, card: Any, protocol: int, atr: bytes, reader: str) -> None:
        self._context = context
        self._card = card
        self._protocol = protocol
        self._atr = atr
        self.reader = reader
        self.apdus = 0

    @property
    def atr(self) -> bytes:
        return self._atr

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        if self._card is None:
            raise ReaderUnavailableError("connection closed")
        rv, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        if rv != scard.SCARD_S_SUCCESS:
            if rv in _CARD_GONE or (rv not in _SERVICE_GONE and self._card_was_removed()):
                raise CardRemovedError(f"{self.reader}: {_error(rv)}")
            if rv in _SERVICE_GONE:
                raise ReaderUnavailableError(f"{self.reader}: {_error(rv)}")
            raise CardCommunicationError(f"{self.reader}: {_error(rv)}")
        self.apdus += 1
        if len(response) < 2:
            raise CardCommunicationError(f"{self.reader}: response of {len(response)} bytes")
        return bytes(response[:-2]), response[-2], response[-1]

    def _card_was_removed(self) -> bool:
        """After a failed exchange: was the card taken away? pcscd only notices at its next
        presence poll (every 0.4 s), so wait up to `REMOVAL_GRACE_MS` for it to say so."""
        rv, states = scard.SCardGetStatusChange(
            self._context, 0, [(self.reader, scard.SCARD_STATE_UNAWARE)]
        )
        if rv != scard.SCARD_S_SUCCESS:
            return False
        state = states[0][1] & ~scard.SCARD_STATE_CHANGED
        if not _present(state):
            return True
        rv, states = scard.SCardGetStatusChange(
            self._context, REMOVAL_GRACE_MS, [(self.reader, state)]
        )
        return rv == scard.SCARD_S_SUCCESS and not _present(states[0][1])

    def disconnect(self) -> None:
        """End the session, resetting the card so no PIN state outlives it."""
        card, self._card = self._card, None
        if card is not None:
            scard.SCardDisconnect(card, scard.SCARD_RESET_CARD)
        context, self._context = self._context, None
        if context is not None:
            scard.SCardReleaseContext(context)


class PcscReader(Reader):
    """Every reader pcscd offers; reconnects to pcscd by itself after a restart."""

    def __init__(
        self,
        *,
        exclusive: bool = True,
        backoff_initial: float = 0.05,
        backoff_max: float = 2.0,
    ) -> None:
        self._exclusive = exclusive
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._context: Any = None
        self._states: dict[str, int] = {}  # last event state seen per reader
        self._pending: collections.deque[CardEvent] = collections.deque()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self.service_losses = 0

    # -- context management ---------------------------------------------------------------------

    @staticmethod
    def _establish() -> Any:
        rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rv != scard.SCARD_S_SUCCESS:
            raise ReaderUnavailableError(f"pcscd unavailable: {_error(rv)}")
        return context

    def _ensure_context(self, deadline: float | None) -> Any:
        """The monitor's context, re-established with backoff; None if the deadline passed."""
        delay = self._backoff_initial
        while not self._closed.is_set():
            if self._context is not None:
                return self._context
            try:
                self._context = self._establish()
                LOG.info("connected to the PC/SC service")
                return self._context
            except ReaderUnavailableError as exc:
                LOG.debug("%s; retrying in %.2fs", exc, delay)
            wait = delay if deadline is None else min(delay, deadline - time.monotonic())
            if wait <= 0:
                return None
            self._closed.wait(wait)
            delay = min(delay * 2, self._backoff_max)
        return None

    def _service_gone(self, rv: int) -> None:
        LOG.warning("PC/SC service lost (%s); reconnecting", _error(rv))
        self.service_losses += 1
        context, self._context = self._context, None
        if context is not None:
            scard.SCardReleaseContext(context)
        for reader, state in sorted(self._states.items()):
            if _present(state):
                self._pending.append(CardEvent(CardEventKind.REMOVED, reader))
        self._states.clear()

    # -- Reader ---------------------------------------------------------------------------------

    def list_readers(self) -> list[str]:
        context = self._establish()
        try:
            rv, readers = scard.SCardListReaders(context, [])
        finally:
            scard.SCardReleaseContext(context)
        if rv == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if rv != scard.SCARD_S_SUCCESS:
            raise ReaderUnavailableError(f"cannot list readers: {_error(rv)}")
        return list(readers)

    def wait_for_event(self, timeout: float | None = None) -> CardEvent | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                if self._pending:
                    return self._pending.popleft()
                if self._closed.is_set():
                    return None
                context = self._ensure_context(deadline)
                if context is None:
                    return None
                self._poll(context, deadline)
                if not self._pending and deadline is not None and time.monotonic() >= deadline:
                    return None

    def _poll(self, context: Any, deadline: float | None) -> None:
        rv, readers = scard.SCardListReaders(context, [])
        if rv == scard.SCARD_E_NO_READERS_AVAILABLE:
            readers = []
        elif rv in _SERVICE_GONE:
            self._service_gone(rv)
            return
        elif rv != scard.SCARD_S_SUCCESS:
            raise ReaderUnavailableError(f"cannot list readers: {_error(rv)}")
        for gone in sorted(set(self._states) - set(readers)):  # reader unplugged
            if _present(self._states.pop(gone)):
                self._pending.append(CardEvent(CardEventKind.REMOVED, gone))
        if self._pending:
            return
        states = [(r, self._states.get(r, scard.SCARD_STATE_UNAWARE)) for r in readers]
        states.append((PNP_NOTIFICATION, len(readers) << 16))
        wait_ms = _MAX_WAIT_MS
        if deadline is not None:
            wait_ms = max(0, min(wait_ms, int((deadline - time.monotonic()) * 1000)))
        rv, new_states = scard.SCardGetStatusChange(context, wait_ms, states)
        if rv in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED, scard.SCARD_E_UNKNOWN_READER):
            return
        if rv in _SERVICE_GONE:
            self._service_gone(rv)
            return
        if rv != scard.SCARD_S_SUCCESS:
            raise ReaderUnavailableError(f"cannot watch readers: {_error(rv)}")
        for reader, event_state, atr in new_states:
            if reader == PNP_NOTIFICATION:
                continue
            self._record(reader, event_state, bytes(atr))

    def _record(self, reader: str, event_state: int, atr: bytes) -> None:
        previous = self._states.get(reader)
        self._states[reader] = event_state & ~scard.SCARD_STATE_CHANGED
        now_present = _present(event_state)
        was_present = previous is not None and _present(previous)
        if was_present and now_present and previous is not None:
            # pcsc-lite counts insertions and removals in the upper 16 bits: a card swapped
            # between two polls shows up as a changed counter only.
            if (previous >> 16) != (event_state >> 16):
                self._pending.append(CardEvent(CardEventKind.REMOVED, reader))
                self._pending.append(CardEvent(CardEventKind.INSERTED, reader, atr))
        elif now_present and not was_present:
            self._pending.append(CardEvent(CardEventKind.INSERTED, reader, atr))
        elif was_present and not now_present:
            self._pending.append(CardEvent(CardEventKind.REMOVED, reader))

    def connect(self, reader: str) -> PcscConnection:
        context = self._establish()
        share = scard.SCARD_SHARE_EXCLUSIVE if self._exclusive else scard.SCARD_SHARE_SHARED
        rv, card, protocol = scard.SCardConnect(
            context, reader, share, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        if rv != scard.SCARD_S_SUCCESS:
            scard.SCardReleaseContext(context)
            if rv in _CARD_GONE:
                raise CardRemovedError(f"{reader}: {_error(rv)}")
            if rv in _SERVICE_GONE:
                raise ReaderUnavailableError(f"{reader}: {_error(rv)}")
            raise CardCommunicationError(f"cannot connect to {reader}: {_error(rv)}")
        rv, _name, _state, _protocol, atr = scard.SCardStatus(card)
        if rv != scard.SCARD_S_SUCCESS:
            atr = []
        return PcscConnection(context, card, protocol, bytes(atr), reader)

    def close(self) -> None:
        self._closed.set()
        context = self._context
        if context is not None:
            scard.SCardCancel(context)
        with self._lock:
            context, self._context = self._context, None
            if context is not None:
                scard.SCardReleaseContext(context)
