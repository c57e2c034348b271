"""The real server for e2e tests: migrate, seed and ``onshi serve`` as subprocesses.

Every run gets its own data directory (SQLite database, development secrets, logs) and a free
loopback port, so e2e runs never touch ``var/`` or each other. The environment passed to the
children is built from scratch for ``ONSHI_*``: nothing from the caller's shell leaks in.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_SECONDS = 60.0
STOP_SECONDS = 10.0
# The demo nation's seed: the same nation in every run.
SEED_COMMAND: tuple[str, ...] = ("seed",)


class ServerError(RuntimeError):
    """The server (or a CLI step before it) failed; the message carries its log."""


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def onshi_command() -> list[str]:
    """The ``onshi`` entry point of the running virtual environment."""
    script = Path(sys.executable).with_name("onshi")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "onshi.cli"]


def tail(path: Path, lines: int = 200) -> str:
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


@dataclass
class OnshiServer:
    """``onshi serve`` on ``127.0.0.1:<port>`` with its own data directory.

    ``origin`` uses the name ``localhost`` (a WebAuthn relying party cannot be an IP address);
    the server listens on the IPv4 loopback address only.
    """

    data_dir: Path
    port: int = field(default_factory=free_loopback_port)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def direct_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "server.log"

    @property
    def cli_log_path(self) -> Path:
        return self.data_dir / "logs" / "cli.log"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'onshi.sqlite3'}"

    @property
    def env(self) -> dict[str, str]:
        base = {key: value for key, value in os.environ.items() if not key.startswith("ONSHI_")}
        return {
            **base,
            "ONSHI_ENV": "development",
            "ONSHI_DATA_DIR": str(self.data_dir),
            "ONSHI_DATABASE_URL": self.database_url,
            "ONSHI_HOST": "127.0.0.1",
            "ONSHI_PORT": str(self.port),
            "ONSHI_PUBLIC_ORIGIN": self.origin,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def cli(self, *args: str, timeout: float = 600.0) -> str:
        """Run ``onshi <args>`` against this server's data; returns its output, raises with it on
        failure."""
        self.cli_log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = [*onshi_command(), *args]
        started = time.monotonic()
        result = subprocess.run(
            argv,
            env=self.env,
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        output = result.stdout + result.stderr
        with self.cli_log_path.open("a") as log:
            log.write(f"$ onshi {' '.join(args)}  ({time.monotonic() - started:.1f}s)\n{output}\n")
        if result.returncode != 0:
            raise ServerError(f"onshi {' '.join(args)} exited {result.returncode}:\n{output}")
        return output

    def prepare(self, seed: Sequence[str] | None = SEED_COMMAND) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.cli("migrate")
        if seed:
            self.cli(*seed)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*onshi_command(), "serve"],
                env=self.env,
                cwd=self.data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        url = f"{self.direct_url}/healthz"
        last_error = ""
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise ServerError(f"onshi serve exited {code} at start:\n{tail(self.log_path)}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
                    last_error = f"HTTP {response.status}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.2)
        self.stop()
        raise ServerError(
            f"onshi serve not healthy after {STARTUP_SECONDS:.0f}s ({last_error}):\n"
            f"{tail(self.log_path)}"
        )

    def stop(self) -> int | None:
        """terminate → wait → kill. Returns the exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                return process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        return process.wait(timeout=STOP_SECONDS)

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        """Read the seeded database directly (read-only), to assert pages show the real data."""
        path = self.data_dir / "onshi.sqlite3"
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            return list(connection.execute(sql, params).fetchall())

    def log(self, lines: int = 200) -> str:
        return tail(self.log_path, lines)
