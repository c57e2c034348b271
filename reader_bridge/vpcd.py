"""Attach a VIRTUAL card to vsmartcard's vpcd reader driver (inside pcscd) over TCP.

vpcd listens on a TCP port per slot; the card is the client. Every message is a 2-byte
big-endian length followed by the payload. A 1-byte payload is a control message
(0 power off, 1 power on, 2 reset, 4 get ATR — only the last is answered, with the ATR);
anything longer is a command APDU, answered with the response APDU.

While the link is connected pcscd sees the card as present; `remove()` closes the link (the
card is taken off the reader) and `insert()` opens it again. When pcscd goes away (restart),
the link reconnects with backoff until it is back or the card is removed.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from reader_bridge.virtual_card import VirtualCard

LOG = logging.getLogger(__name__)

VPCD_POWER_OFF = 0
VPCD_POWER_ON = 1
VPCD_RESET = 2
VPCD_GET_ATR = 4
LOOPBACK = "127.0.0.1"
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class VpcdCardLink:
    """Runs one virtual card against one vpcd slot in a background thread."""

    def __init__(
        self,
        card: VirtualCard,
        port: int,
        *,
        host: str = LOOPBACK,
        reconnect_initial: float = 0.02,
        reconnect_max: float = 0.5,
        quickack: bool = True,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._reconnect_initial = reconnect_initial
        self._reconnect_max = reconnect_max
        self._quickack = quickack and _QUICKACK is not None
        self._lock = threading.Lock()
        self._inserted = threading.Event()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.apdus = 0

    # -- control --------------------------------------------------------------------------------

    def insert(self) -> None:
        """Put the card on the reader: connect to vpcd (and keep reconnecting)."""
        self._inserted.set()
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"vpcd-card-{self.port}", daemon=True
            )
            self._thread.start()

    def remove(self) -> None:
        """Take the card off the reader: close the link; pcscd notices within its poll period."""
        self._inserted.clear()
        self._connected.clear()
        self._close_socket()

    def close(self) -> None:
        self._stop.set()
        self.remove()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- loop -----------------------------------------------------------------------------------

    def _close_socket(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _run(self) -> None:
        delay = self._reconnect_initial
        while not self._stop.is_set():
            if not self._inserted.wait(timeout=0.1):
                continue
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                self._stop.wait(delay)
                delay = min(delay * 2, self._reconnect_max)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sock = sock
            if not self._inserted.is_set():  # removed while connecting
                self._close_socket()
                continue
            delay = self._reconnect_initial
            self._connected.set()
            LOG.debug("virtual card connected to vpcd on %s:%d", self.host, self.port)
            try:
                self._serve(sock)
            except OSError as exc:
                LOG.debug("vpcd link closed: %s", exc)
            finally:
                self._connected.clear()
                self._close_socket()
                self.card.power_off()

    def _recv_exact(self, sock: socket.socket, size: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < size:
            if self._quickack:
                # Linux clears quick-ack mode after each ACK; without re-arming it the kernel
                # delays the ACK of the response and each APDU costs ~40-50 ms.
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)  # type: ignore[arg-type]
            chunk = sock.recv(size - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def _serve(self, sock: socket.socket) -> None:
        while True:
            header = self._recv_exact(sock, 2)
            if header is None:
                return
            payload = self._recv_exact(sock, int.from_bytes(header, "big"))
            if payload is None:
                return
            if len(payload) == 1:
                control = payload[0]
                if control == VPCD_POWER_OFF:
                    self.card.power_off()
                elif control in (VPCD_POWER_ON, VPCD_RESET):
                    self.card.power_on()
                elif control == VPCD_GET_ATR:
                    self._send(sock, self.card.atr)
                else:
                    LOG.warning("unknown vpcd control message %d", control)
                continue
            self.apdus += 1
            self._send(sock, self.card.process_apdu(payload))
