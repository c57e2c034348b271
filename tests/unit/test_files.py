"""Owner-only files: the SQLite database, its WAL and SHM, the data directory and the
development secrets are never readable by others, whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from onshi.db.engine import make_engine
from onshi.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("loose_umask")
def test_sqlite_database_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "data" / "nested" / "onshi.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            connection.commit()
            wal = database.with_name(database.name + "-wal")
            shm = database.with_name(database.name + "-shm")
            assert wal.exists()
            assert shm.exists()
            assert _mode(database) == 0o600
            assert _mode(wal) == 0o600
            assert _mode(shm) == 0o600
    finally:
        engine.dispose()
    assert _mode(database.parent) == 0o700
    assert _mode(database.parent.parent) == 0o700


@pytest.mark.usefixtures("loose_umask")
def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    database = tmp_path / "onshi.sqlite3"
    database.touch(mode=0o644)
    (tmp_path / "onshi.sqlite3-wal").touch(mode=0o644)
    database.chmod(0o644)
    tmp_path.chmod(0o755)
    make_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600
    assert _mode(tmp_path / "onshi.sqlite3-wal") == 0o600
    assert _mode(tmp_path) == 0o755  # an existing parent directory (maybe shared) is left alone


@pytest.mark.usefixtures("loose_umask")
def test_development_secrets_and_data_dir_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    Settings.from_env({"ONSHI_DATA_DIR": str(data_dir)})
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "development-secrets.json") == 0o600
    # an old, loose data directory is tightened on the next start
    data_dir.chmod(0o755)
    (data_dir / "development-secrets.json").chmod(0o644)
    Settings.from_env({"ONSHI_DATA_DIR": str(data_dir)})
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "development-secrets.json") == 0o600


def test_onshi_commands_leave_nothing_readable_by_others(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = {**os.environ, "ONSHI_DATA_DIR": str(data_dir)}
    env.pop("ONSHI_DATABASE_URL", None)
    for command in (["migrate"], ["dev-pki", "init"]):
        subprocess.run(
            [sys.executable, "-m", "onshi.cli", *command],
            env=env,
            cwd=tmp_path,
            check=True,
            capture_output=True,
            preexec_fn=lambda: os.umask(0o022),
            timeout=120,
        )
    found = [data_dir, *data_dir.rglob("*")]
    assert any(path.name == "onshi.sqlite3" for path in found)
    assert any(path.name.endswith(".pem") for path in found)
    loose = [
        f"{path.relative_to(tmp_path)} {_mode(path):o}" for path in found if _mode(path) & 0o077
    ]
    assert loose == []
