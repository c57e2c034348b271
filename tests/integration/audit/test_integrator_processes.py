"""The integrator as real processes: killed with SIGKILL it loses nothing (the entries wait and
the next integrator takes them), and of two app instances on one database exactly one
integrates; killing it hands the work to the other with no entry lost or doubled. Runs on
SQLite (election by flock) and PostgreSQL (advisory lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind, TlogLeaf
from onshi.audit.note import split_notes
from onshi.audit.services import record_audit
from onshi.clock import FrozenClock
from tests.integration.web.live_helpers import free_port
from tests.tlog_helpers import TEST_IDENTITY, TEST_SIGNER, positions, verify, waiting

DEADLINE = 60.0


def _write(db: Session, n: int, tag: str) -> None:
    clock = FrozenClock()
    for i in range(n):
        record_audit(
            db,
            clock,
            actor_kind=ActorKind.SYSTEM,
            actor_id=None,
            action="test.entry",
            object_type="thing",
            object_id=f"{tag}-{i}",
        )
    db.commit()


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _all_integrated(db: Session, total: int) -> Callable[[], bool]:
    def check() -> bool:
        db.rollback()  # a fresh snapshot each time
        pending = waiting(db)
        done = db.scalar(select(func.count()).select_from(TlogLeaf))
        return pending == 0 and done == total

    return check


def _env(db_engine: Engine, tmp_path: Path, name: str, **extra: str) -> dict[str, str]:
    url = db_engine.url
    if db_engine.dialect.name == "postgresql":
        url = url.update_query_dict({"application_name": f"onshi-tlog-{name}"})
    return {
        **os.environ,
        "ONSHI_ENV": "test",
        "ONSHI_SECRET_KEY": "tlog-process-test-secret-key-0123456789",
        "ONSHI_MY_NUMBER_KEY": "tlog-process-test-my-number-key-0123456789",
        "ONSHI_DATABASE_URL": url.render_as_string(hide_password=False),
        "ONSHI_DATA_DIR": str(tmp_path / name),
        "ONSHI_TLOG_SIGNING_KEY": TEST_SIGNER.encode(),
        "ONSHI_TLOG_ORIGIN": TEST_IDENTITY.origin,
        "ONSHI_TLOG_INTERVAL_MS": "50",
        "ONSHI_CHECKPOINT_EXPORT": str(tmp_path / "witness.txt"),
        "ONSHI_BATCH_WORKER": "false",
        "ONSHI_SECURE_COOKIES": "false",
        **extra,
    }


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "onshi.cli", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def _check_log(db_engine: Engine, tmp_path: Path, total: int) -> None:
    report = verify(db_engine)
    assert report.ok, report.problems
    assert report.entries == total
    witness = split_notes((tmp_path / "witness.txt").read_text(encoding="utf-8"))
    against = verify(db_engine, witness)
    assert against.ok, against.problems
    assert against.largest_checkpoint == total


def test_a_killed_integrator_loses_nothing(
    db: Session,
    db_engine: Engine,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    (tmp_path / "a").mkdir()
    env = _env(db_engine, tmp_path, "a")
    _write(db, 300, "before")
    first = _spawn(["audit", "integrate"], env, tmp_path / "first.log")
    processes.append(first)
    _wait_for(_all_integrated(db, 300), "the first integrator")

    # Kill it while entries keep arriving (perhaps mid-batch: then that batch never commits).
    for round_ in range(5):
        _write(db, 40, f"during-{round_}")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    _write(db, 100, "after")
    db.rollback()
    assert waiting(db), "nothing waited after the kill: the test did not test anything"

    second = _spawn(["audit", "integrate"], env, tmp_path / "second.log")
    processes.append(second)
    _wait_for(_all_integrated(db, 600), "the restarted integrator")
    assert sorted(positions(db).values()) == list(range(600))
    _check_log(db_engine, tmp_path, 600)


def _leader_pid(db_engine: Engine, tmp_path: Path, pids: dict[str, int]) -> str | None:
    """Which instance holds the integrator lock (PostgreSQL: pg_locks; SQLite: /proc/locks)."""
    if db_engine.dialect.name == "postgresql":
        with db_engine.connect() as connection:
            names = connection.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND a.application_name LIKE 'onshi-tlog-%'"
                )
            ).scalars()
            held = [name.removeprefix("onshi-tlog-") for name in names]
        return held[0] if len(held) == 1 else None
    database = db_engine.url.database
    assert database is not None
    inode = os.stat(f"{database}.integrator").st_ino
    holders = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and fields[-3].endswith(f":{inode}"):
            holders.append(int(fields[-4]))
    by_pid = {pid: name for name, pid in pids.items()}
    found = [by_pid[pid] for pid in holders if pid in by_pid]
    return found[0] if len(found) == 1 else None


def test_failover_between_two_app_instances(
    db: Session,
    db_engine: Engine,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    instances: dict[str, subprocess.Popen[bytes]] = {}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        port = free_port()
        env = _env(db_engine, tmp_path, name, ONSHI_PORT=str(port), ONSHI_HOST="127.0.0.1")
        instances[name] = _spawn(["serve"], env, tmp_path / f"{name}.log")
        processes.append(instances[name])

        def healthy(port: int = port) -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok"
            except httpx.HTTPError:
                return False

        _wait_for(healthy, f"instance {name} to serve")
    pids = {name: process.pid for name, process in instances.items()}

    _write(db, 200, "first")
    _wait_for(_all_integrated(db, 200), "integration by one of the instances")
    leader = _leader_pid(db_engine, tmp_path, pids)
    assert leader is not None, "exactly one instance must hold the integrator lock"
    survivor = "b" if leader == "a" else "a"

    _write(db, 50, "racing")
    instances[leader].send_signal(signal.SIGKILL)
    instances[leader].wait(timeout=30)
    _write(db, 150, "second")
    _wait_for(_all_integrated(db, 400), "the surviving instance to take over")
    _wait_for(lambda: _leader_pid(db_engine, tmp_path, pids) == survivor, "the new leader")
    assert instances[survivor].poll() is None

    assert sorted(positions(db).values()) == list(range(400))  # none lost, none doubled
    _check_log(db_engine, tmp_path, 400)
