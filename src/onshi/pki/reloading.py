"""A :class:`TrustStore` that follows its files: anchors and CRLs are reloaded when they change.

A CRL is re-issued before its next-update (JPKI: daily); a store built once at start-up would
answer ``certificate.crl_stale`` for every card after that instant. :class:`ReloadingTrustStore`
keeps the current store and, at most once every ``check_seconds`` of the app's :class:`Clock`,
compares the configured files' (inode, mtime, size) with those of the last load:

- unchanged → nothing else happens (a few ``stat`` calls every ``check_seconds``);
- changed → one thread builds a new store from the files and swaps it in (logged); the other
  requests meanwhile go on with the previous store (they never wait for the build), so the build
  happens at most once per change;
- changed but not loadable (a CRL not signed by an anchor, a truncated file, a file removed) →
  the previous store stays in use and a warning says so; the same files are not tried again
  until they change once more.

Writers should replace files atomically (write a temporary file, then rename, as
``onshi dev-pki`` does); a half-written file is only ever refused, never used.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from onshi.clock import Clock
from onshi.pki.errors import TrustConfigurationError
from onshi.pki.trust import TrustStore
from onshi.settings import Settings

log = logging.getLogger("onshi.pki")

#: (path, inode, mtime in ns, size) per file; ``None`` for a file that cannot be read.
FileState = tuple[tuple[str, int, int, int] | tuple[str, None], ...]


@dataclass(frozen=True)
class TrustFiles:
    anchors: tuple[Path, ...]
    crls: tuple[Path, ...]
    grace_months: int = 3
    warning_months: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustFiles:
        return cls(
            settings.jpki_trust_anchors,
            settings.jpki_crls,
            grace_months=settings.certificates.grace_months,
            warning_months=settings.certificates.expiry_warning_months,
        )

    def state(self) -> FileState:
        states: list[tuple[str, int, int, int] | tuple[str, None]] = []
        for path in (*self.anchors, *self.crls):
            try:
                stat = os.stat(path)
            except OSError:
                states.append((str(path), None))
            else:
                states.append((str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size))
        return tuple(states)

    def load(self) -> TrustStore:
        return TrustStore.from_files(
            self.anchors,
            self.crls,
            grace_months=self.grace_months,
            warning_months=self.warning_months,
        )


class ReloadingTrustStore:
    """The current :class:`TrustStore` of a set of files (see the module docstring)."""

    def __init__(self, files: TrustFiles, clock: Clock, *, check_seconds: float = 30.0) -> None:
        if check_seconds <= 0:
            raise ValueError("check_seconds must be positive")
        self.files = files
        self._clock = clock
        self._interval = timedelta(seconds=check_seconds)
        self._lock = threading.Lock()
        state = files.state()
        self._store = files.load()  # an unusable configuration fails at the first use, loudly
        self._loaded_state = state
        self._refused_state: FileState | None = None
        self.loaded_at: datetime = clock.now()
        self._next_check = self.loaded_at + self._interval
        log.info("JPKI trust store loaded: %s", _describe(files, self._store))

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> ReloadingTrustStore:
        return cls(
            TrustFiles.from_settings(settings), clock, check_seconds=settings.jpki_reload_seconds
        )

    @property
    def store(self) -> TrustStore:
        """The store in use now, without looking at the files."""
        return self._store

    def current(self) -> TrustStore:
        """The store to check a card with; looks at the files when ``check_seconds`` passed."""
        if self._clock.now() >= self._next_check and self._lock.acquire(blocking=False):
            try:
                self._check()
            finally:
                self._lock.release()
        return self._store

    def check_now(self) -> bool:
        """Look at the files now (waiting for a check under way); True when a new store was
        swapped in."""
        with self._lock:
            return self._check()

    def _check(self) -> bool:
        now = self._clock.now()
        self._next_check = now + self._interval
        state = self.files.state()
        if state in (self._loaded_state, self._refused_state):
            return False
        try:
            store = self.files.load()
        except TrustConfigurationError as exc:
            self._refused_state = state
            log.warning(
                "JPKI trust files changed but cannot be loaded (%s); keeping the previous trust "
                "store, loaded at %s",
                exc,
                self.loaded_at.isoformat(timespec="seconds"),
            )
            return False
        self._store = store
        self._loaded_state = state
        self._refused_state = None
        self.loaded_at = now
        log.info("JPKI trust store reloaded: %s", _describe(self.files, store))
        return True


def _describe(files: TrustFiles, store: TrustStore) -> str:
    updates = sorted(
        update.isoformat(timespec="seconds") if update else "none"
        for update in store.crl_next_updates()
    )
    return (
        f"{len(store.anchors)} anchor(s) from {_names(files.anchors)}, "
        f"{len(updates)} CRL(s) from {_names(files.crls)} (next update {', '.join(updates) or '-'})"
    )


def _names(paths: Sequence[Path]) -> str:
    return ", ".join(str(path) for path in paths) or "-"
