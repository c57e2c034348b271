"""The screen the kiosk shows now, with a version that changes on every new screen: the flow
publishes, the kiosk server renders `snapshot` and long-polls `wait_for_change`."""

from __future__ import annotations

import threading

from reader_bridge.screens import Screen


class ScreenBoard:
    def __init__(self) -> None:
        self._screen = Screen()
        self._version = 0
        self._changed = threading.Condition(threading.Lock())

    @property
    def version(self) -> int:
        return self._version

    def snapshot(self) -> Screen:
        return self._screen

    def wait_for_change(self, version: int, timeout: float) -> int:
        """Block until the version differs from `version` (or `timeout`); returns the version."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != version, timeout)
            return self._version

    def publish(self, screen: Screen) -> None:
        """Show `screen` and wake every waiter."""
        self._screen = screen
        with self._changed:
            self._version += 1
            self._changed.notify_all()
