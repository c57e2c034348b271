"""The vpcd socket protocol, against a loopback stand-in for vpcd's listening side."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from reader_bridge.virtual_card import MY_NUMBER_CARD_ATR, VirtualJpkiCard
from reader_bridge.vpcd import VpcdCardLink


@pytest.fixture
def server() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(5)
        yield listener


def send(conn: socket.socket, payload: bytes) -> None:
    conn.sendall(len(payload).to_bytes(2, "big") + payload)


def receive(conn: socket.socket) -> bytes:
    def exact(size: int) -> bytes:
        buf = b""
        while len(buf) < size:
            chunk = conn.recv(size - len(buf))
            assert chunk, "link closed"
            buf += chunk
        return buf

    return exact(int.from_bytes(exact(2), "big"))


def test_control_messages_and_apdus(server: socket.socket, card: VirtualJpkiCard) -> None:
    link = VpcdCardLink(card, server.getsockname()[1])
    link.insert()
    try:
        conn, peer = server.accept()
        conn.settimeout(5)
        assert peer[0] == "127.0.0.1"
        assert link.wait_connected(5)
        send(conn, b"\x01")  # power on: no answer
        send(conn, b"\x04")  # get ATR
        assert receive(conn) == MY_NUMBER_CARD_ATR
        send(conn, bytes.fromhex("00A4040C0AD392F000260100000001"))
        assert receive(conn) == b"\x90\x00"
        send(conn, bytes.fromhex("00A4020C020018"))
        assert receive(conn) == b"\x90\x00"
        send(conn, bytes.fromhex("002000800431323334"))
        assert receive(conn) == b"\x90\x00"
        send(conn, b"\x02")  # reset: the PIN state is gone
        send(conn, bytes.fromhex("00A4040C0AD392F000260100000001"))
        assert receive(conn) == b"\x90\x00"
        send(conn, bytes.fromhex("00A4020C020017"))
        assert receive(conn) == b"\x90\x00"
        send(conn, bytes.fromhex("802A00800101") + b"\x00")
        assert receive(conn) == b"\x69\x82"
        assert link.apdus == 6
        conn.close()
    finally:
        link.close()


def test_link_reconnects_until_removed(server: socket.socket, card: VirtualJpkiCard) -> None:
    link = VpcdCardLink(card, server.getsockname()[1])
    link.insert()
    try:
        first, _ = server.accept()
        first.close()  # vpcd went away (pcscd restart)
        second, _ = server.accept()
        second.settimeout(5)
        send(second, b"\x04")
        assert receive(second) == MY_NUMBER_CARD_ATR
        link.remove()
        assert second.recv(1) == b""  # the card left the reader
        assert not link.connected
        second.close()
    finally:
        link.close()
