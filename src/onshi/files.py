"""Owner-only files and directories for everything Onshi keeps on disk.

The data directory holds the SQLite database (and its ``-wal`` / ``-shm`` files, which carry
recent writes in clear), the development secrets and the development PKI's private keys. Whatever
the process umask, Onshi makes its directories ``0700`` and its data files ``0600``:

- :func:`private_directory` creates every missing component ``0700`` and tightens the directory
  itself (never an existing parent, which may be shared, such as ``/tmp``);
- :func:`private_file` creates a file ``0600`` before anyone writes to it, or tightens an
  existing one. SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions, so
  creating the database ``0600`` first covers them; existing ones are tightened too.

``onshi`` also runs with umask ``077`` (src/onshi/cli.py), so files created by libraries are
owner-only as well.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

PRIVATE_DIRECTORY: Final = 0o700
PRIVATE_FILE: Final = 0o600
PRIVATE_UMASK: Final = 0o077
SQLITE_COMPANIONS: Final[tuple[str, ...]] = ("-wal", "-shm", "-journal")


def private_directory(path: Path) -> Path:
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=PRIVATE_DIRECTORY)
    if (path.stat().st_mode & 0o777) != PRIVATE_DIRECTORY:
        path.chmod(PRIVATE_DIRECTORY)
    return path


def private_file(path: Path) -> Path:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    try:
        if (os.fstat(descriptor).st_mode & 0o777) != PRIVATE_FILE:
            os.fchmod(descriptor, PRIVATE_FILE)
    finally:
        os.close(descriptor)
    return path


def private_sqlite_database(path: Path) -> None:
    """The database's directory ``0700`` only when Onshi creates it; the database and its
    companion files ``0600``.

    Existing files are tightened by name (``chmod``), never opened: closing any descriptor of a
    file releases every POSIX lock this process holds on it, SQLite's included, and a database
    whose ``-shm`` locks were dropped that way is taken for unused by the next connection that
    closes elsewhere, which then removes the WAL under this process's open connections
    (``disk I/O error``). That happens when a second engine is made for a database a process
    already has open (the intake's parsing process closes its connection while the importer
    still has its own)."""
    if not path.parent.exists():
        private_directory(path.parent)
    if not _tightened(path):
        private_file(path)
    for suffix in SQLITE_COMPANIONS:
        _tightened(path.with_name(path.name + suffix))


def _tightened(path: Path) -> bool:
    """An existing file made ``0600`` by name; False when there is none."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        return False
    if mode != PRIVATE_FILE:
        path.chmod(PRIVATE_FILE)
    return True
