"""Fixtures for the card layer: a virtual CA, virtual JPKI cards and the in-process reader."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest

from reader_bridge.jpki import JpkiCard
from reader_bridge.readers.inprocess import InProcessConnection, InProcessReader
from reader_bridge.virtual_card import VirtualJpkiCard
from reader_bridge.virtual_pki import VirtualCa

NOW = dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC)
CARD_PIN = "1234"


@pytest.fixture(scope="session")
def virtual_ca() -> VirtualCa:
    return VirtualCa.generate(NOW)


@pytest.fixture(scope="session")
def card_template(virtual_ca: VirtualCa) -> VirtualJpkiCard:
    return virtual_ca.issue_card(NOW, pin=CARD_PIN)


@pytest.fixture
def make_card(card_template: VirtualJpkiCard) -> Callable[..., VirtualJpkiCard]:
    """A fresh card (full PIN counter, no session) sharing the template's key material."""

    def make(**changes: object) -> VirtualJpkiCard:
        return dataclasses.replace(card_template, **changes)  # type: ignore[arg-type]

    return make


@pytest.fixture
def card(make_card: Callable[..., VirtualJpkiCard]) -> VirtualJpkiCard:
    return make_card()


@pytest.fixture
def reader(card: VirtualJpkiCard) -> InProcessReader:
    reader = InProcessReader(["Virtual Reader 0", "Virtual Reader 1"])
    reader.insert(card, "Virtual Reader 0")
    return reader


@pytest.fixture
def connection(reader: InProcessReader) -> InProcessConnection:
    return reader.connect("Virtual Reader 0")


@pytest.fixture
def jpki(connection: InProcessConnection) -> JpkiCard:
    return JpkiCard(connection)
