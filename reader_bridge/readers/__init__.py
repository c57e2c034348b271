"""Card readers: one `Reader` interface, an in-process implementation holding virtual cards and a
PC/SC implementation over pyscard (real readers, or vpcd + a virtual card)."""

from reader_bridge.readers.base import CardEvent, CardEventKind, Connection, Reader
from reader_bridge.readers.inprocess import InProcessReader

__all__ = ["CardEvent", "CardEventKind", "Connection", "InProcessReader", "Reader"]
