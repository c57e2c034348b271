"""Engine construction. The app uses the synchronous engine from the thread pool (measured faster
than the async ORM over aiosqlite on this machine kind; BENCHMARKS.md)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from onshi.db.registry import load_all_models
from onshi.files import private_sqlite_database

DEFAULT_TIMEOUT_SECONDS = 30
"""Command-line tools (migrate, seed, batch worker) wait this long for a lock; the web app
passes ``ONSHI_DB_TIMEOUT_SECONDS`` (5 s by default) so a request answers 503 instead."""


def make_engine(url: str, *, timeout_seconds: float | None = None, **kwargs: Any) -> Engine:
    """``timeout_seconds`` bounds every wait for the database: SQLite's busy timeout (a write
    lock held elsewhere); PostgreSQL's ``connect_timeout``, ``lock_timeout``, a
    ``statement_timeout`` of six times it, and the connection pool's wait. A wait that runs out
    raises ``OperationalError`` / ``sqlalchemy.exc.TimeoutError``, which
    :func:`onshi.db.availability.database_unavailable` recognises."""
    # Model modules name other domains' tables only by string (ForeignKey("table.column")), so
    # every model is registered before any session on this engine can flush.
    load_all_models()
    timeout = DEFAULT_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
    if url.startswith("sqlite"):
        _ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"timeout": timeout}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(int(timeout * 1000)))
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # No ping on every checkout (a round trip per transaction): a connection the server closed
    # (restart, failover, idle timeout) fails its first statement instead; SQLAlchemy recognises
    # the disconnect, invalidates that connection and every older one in the pool, and the
    # request answers 503 (onshi.db.availability), the next ones reconnect. Connections are also
    # replaced after ``pool_recycle`` seconds, below common server and pooler idle timeouts.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 1800)
    if timeout_seconds is not None:
        milliseconds = int(timeout_seconds * 1000)
        kwargs.setdefault("pool_timeout", timeout_seconds)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("connect_timeout", max(1, round(timeout_seconds)))
        connect_args.setdefault(
            "options",
            f"-c lock_timeout={milliseconds} -c statement_timeout={6 * milliseconds}",
        )
        kwargs["connect_args"] = connect_args
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


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
        cursor.close()

    return on_connect


def _ensure_sqlite_directory(url: str) -> None:
    """Owner-only database file (and directory, when created here) before SQLite opens it, so
    the database, its WAL and its shared-memory file are never readable by others."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        private_sqlite_database(Path(path.split("?", 1)[0]))
