"""A private pcscd with vpcd's two virtual readers for the real PC/SC card path (marker `pcsc`).

Nothing here is skipped: a missing pcscd, vpcd driver or pyscard fails the test with the
package to install. libpcsclite reads PCSCLITE_CSOCK_NAME once per process, so the session
fixture sets it before the first PC/SC call and checks that the readers seen are its own.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from pcsc_harness import HarnessError, PcscdHarness

from reader_bridge.readers.base import CardEvent, CardEventKind, Reader
from reader_bridge.virtual_card import VirtualCard, VirtualJpkiCard
from reader_bridge.virtual_pki import VirtualCa
from reader_bridge.vpcd import VpcdCardLink

NOW = dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC)
CARD_PIN = "1234"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:  # the PC/SC tests; the portal tests need no pcscd
        if str(item.path).startswith(here) and item.path.name.startswith("test_pcsc"):
            item.add_marker(pytest.mark.pcsc)


def _pcsc_module() -> ModuleType:
    try:
        from reader_bridge.readers import pcsc
    except ImportError as exc:
        pytest.fail(
            f"{exc}. Install the dev extra (pip install -e '.[dev]'); pyscard builds against "
            "the Debian packages libpcsclite-dev and swig.",
            pytrace=False,
        )
    return pcsc


@pytest.fixture(scope="session")
def pcscd_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscdHarness]:
    try:
        harness = PcscdHarness(tmp_path_factory.mktemp("pcscd"))
        os.environ.update(harness.client_environment())
        harness.start()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        seen = set(_pcsc_module().PcscReader().list_readers())
        expected = {slot.name for slot in harness.slots}
        if seen != expected:
            pytest.fail(
                f"the PC/SC client sees {sorted(seen)}, not the test pcscd's readers: "
                "libpcsclite was used in this process before PCSCLITE_CSOCK_NAME was set",
                pytrace=False,
            )
        yield harness
    finally:
        harness.stop()


@pytest.fixture
def pcscd(pcscd_session: PcscdHarness) -> PcscdHarness:
    if not pcscd_session.running:  # a previous test stopped it
        pcscd_session.start()
    return pcscd_session


@pytest.fixture
def pcsc_reader(pcscd: PcscdHarness) -> Iterator[Reader]:
    reader = _pcsc_module().PcscReader(backoff_initial=0.02, backoff_max=0.2)
    yield reader
    reader.close()


@pytest.fixture(scope="session")
def virtual_ca() -> VirtualCa:
    return VirtualCa.generate(NOW)


@pytest.fixture(scope="session")
def card_template(virtual_ca: VirtualCa) -> VirtualJpkiCard:
    return virtual_ca.issue_card(NOW, pin=CARD_PIN)


@pytest.fixture
def issue_card(virtual_ca: VirtualCa) -> Callable[[str], VirtualJpkiCard]:
    """A card with its own new key and certificate, for the given PIN."""
    return lambda pin: virtual_ca.issue_card(NOW, pin=pin)


@pytest.fixture
def card(card_template: VirtualJpkiCard) -> VirtualJpkiCard:
    import dataclasses

    return dataclasses.replace(card_template)


def _slot_has_card(slot: str) -> bool:
    from smartcard import scard

    rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert rv == scard.SCARD_S_SUCCESS
    try:
        rv, states = scard.SCardGetStatusChange(context, 0, [(slot, scard.SCARD_STATE_UNAWARE)])
        return rv == scard.SCARD_S_SUCCESS and bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(context)


@pytest.fixture
def place_card(pcscd: PcscdHarness) -> Iterator[Callable[..., tuple[VpcdCardLink, str]]]:
    """Put a virtual card on vpcd slot `index`; returns the link and the PC/SC reader name.
    After the test every card is taken off and pcscd has seen the slot empty."""
    links: list[tuple[VpcdCardLink, str]] = []

    def place(card: VirtualCard, index: int = 0) -> tuple[VpcdCardLink, str]:
        link = VpcdCardLink(card, pcscd.slots[index].port)
        slot = pcscd.slots[index].name
        link.insert()
        links.append((link, slot))
        return link, slot

    yield place
    for link, _slot in links:
        link.close()
    deadline = time.monotonic() + 5
    for _link, slot in links:
        while pcscd.running and _slot_has_card(slot):
            assert time.monotonic() < deadline, f"pcscd still sees a card in {slot}"
            time.sleep(0.05)


def wait_for(reader: Reader, kind: CardEventKind, slot: str, timeout: float = 10.0) -> CardEvent:
    """The next event of `kind` on `slot`, skipping others; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    seen: list[CardEvent] = []
    while (left := deadline - time.monotonic()) > 0:
        event = reader.wait_for_event(left)
        if event is None:
            break
        if event.kind is kind and event.reader == slot:
            return event
        seen.append(event)
    pytest.fail(f"no {kind.value} event on {slot} within {timeout}s (saw {seen})")


@pytest.fixture
def wait_event() -> Callable[..., CardEvent]:
    return wait_for
