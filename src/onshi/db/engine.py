"""Engine construction. The app uses the synchronous engine from the thread pool (measured faster
than the async ORM over aiosqlite on this machine kind; see DESIGN.md)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


_WRITERS: dict[int, threading.Lock] = {}
_WRITERS_LOCK = threading.Lock()


@contextlib.contextmanager
def serialised_writes(engine: Engine) -> Iterator[None]:
    """On SQLite, one write transaction of this process at a time for the block (a lock per
    engine); elsewhere nothing. SQLite allows one writer per database: a second writer's
    statement waits in SQLite's busy handler, which sleeps 1, 2, 5, 10 … 100 ms between tries,
    so concurrent write transactions from one worker's threads each lose milliseconds they did
    not need to. Waiting on a lock instead hands the database over the moment the previous
    transaction ends. Use it around a whole write transaction (its first write to its commit);
    writers in other processes still meet the busy handler."""
    if engine.dialect.name != "sqlite":
        yield
        return
    lock = _WRITERS.get(id(engine))
    if lock is None:
        with _WRITERS_LOCK:
            lock = _WRITERS.setdefault(id(engine), threading.Lock())
    with lock:
        yield


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _ensure_sqlite_directory(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
