"""A private pcscd with vsmartcard's vpcd readers, for tests of the real PC/SC card path.

pcscd is started by socket activation, so it never touches a system pcscd's socket: the harness
binds a unix socket in its own directory, hands it over as fd 3 with LISTEN_FDS=1 and LISTEN_PID,
and gives pcscd a private reader.conf.d with vpcd readers on free loopback-tested ports. The
pyscard side finds it through PCSCLITE_CSOCK_NAME, which libpcsclite reads once per process:
`client_environment()` must be applied before the first PC/SC call of the process.

vpcd's reader entry gives two slots, "<name> 00 00" on `port` and "<name> 00 01" on `port + 1`,
which PC/SC shows as two readers; a virtual card connects to one of them as a TCP client
(`VpcdCardLink`). Only ONE vpcd entry may be configured: the driver keeps its sockets in a
table indexed by slot number alone, so a second entry would share (and garble) the first's.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PCSCD_RUNTIME_DIR = Path("/run/pcscd")
VPCD_DRIVER_GLOB = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so*"
_EXEC_WITH_FD3 = (
    "import os, sys\n"
    "os.dup2(int(sys.argv[1]), 3)\n"
    "os.environ['LISTEN_FDS'] = '1'\n"
    "os.environ['LISTEN_PID'] = str(os.getpid())\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class HarnessError(RuntimeError):
    """The PC/SC test environment cannot be set up; the message says how to fix it."""


def find_pcscd() -> str:
    path = shutil.which("pcscd") or (
        "/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None
    )
    if path is None:
        raise HarnessError("pcscd not found: install the Debian package 'pcscd'")
    return path


def find_vpcd_driver() -> str:
    matches = sorted(glob.glob(VPCD_DRIVER_GLOB))
    if not matches:
        raise HarnessError(
            f"vpcd driver not found ({VPCD_DRIVER_GLOB}): install the Debian package "
            "'vsmartcard-vpcd'"
        )
    return matches[0]


def _port_pair_free(port: int) -> bool:
    # vpcd binds every interface, so check there; cards only ever connect via 127.0.0.1.
    sockets = []
    try:
        for p in (port, port + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", p))  # probe the port vpcd will bind on all interfaces
        return True
    except OSError:
        return False
    finally:
        for s in sockets:
            s.close()


def free_port_pair() -> int:
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port < 65535 and _port_pair_free(port):
            return port
    raise HarnessError("no free pair of TCP ports for vpcd")


@dataclass(frozen=True)
class VpcdSlot:
    """One PC/SC reader name and the loopback port its virtual card connects to."""

    name: str
    port: int


class PcscdHarness:
    """Owns one private pcscd process (restartable) and its vpcd reader configuration."""

    reader_name = "Onshi Test VPCD"

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.pcscd = find_pcscd()
        self.driver = find_vpcd_driver()
        self.socket_path = self.workdir / "pcscd.comm"
        self.config_dir = self.workdir / "reader.conf.d"
        self.runs = 0
        self.port = free_port_pair()
        self.slots = [
            VpcdSlot(f"{self.reader_name} 00 00", self.port),
            VpcdSlot(f"{self.reader_name} 00 01", self.port + 1),
        ]
        self._process: subprocess.Popen[bytes] | None = None
        self._listener: socket.socket | None = None

    def client_environment(self) -> dict[str, str]:
        return {"PCSCLITE_CSOCK_NAME": str(self.socket_path)}

    def _write_config(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "vpcd").write_text(
            f'FRIENDLYNAME "{self.reader_name}"\n'
            f"DEVICENAME   /dev/null:0x{self.port:04X}\n"
            f"LIBPATH      {self.driver}\n"
            f"CHANNELID    0x{self.port:04X}\n",
            encoding="ascii",
        )

    def start(self) -> None:
        if self._process is not None:
            raise HarnessError("pcscd already running")
        try:
            PCSCD_RUNTIME_DIR.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HarnessError(
                f"pcscd needs {PCSCD_RUNTIME_DIR}: create it (sudo mkdir -p {PCSCD_RUNTIME_DIR})"
            ) from exc
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self.socket_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        listener.listen(64)
        self._listener = listener
        fd = listener.fileno()
        self.runs += 1
        with self.log_path.open("wb") as log:
            # No -a: APDU logging would write PINs to the log.
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _EXEC_WITH_FD3,
                    str(fd),
                    self.pcscd,
                    "-f",
                    "-i",
                    "-c",
                    str(self.config_dir),
                ],
                pass_fds=(fd,),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")},
            )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        """Ready when the log says so and every vpcd port accepts (vpcd listens on them)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise HarnessError(f"pcscd exited with {self._process.returncode}: {self.log()}")
            if "daemon ready" in self.log():
                return
            time.sleep(0.02)
        raise HarnessError(f"pcscd not ready after {timeout}s: {self.log()}")

    @property
    def log_path(self) -> Path:
        return self.workdir / f"pcscd-{self.runs}.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.socket_path.unlink(missing_ok=True)

    def restart(self, downtime: float = 0.3) -> None:
        self.stop()
        time.sleep(downtime)
        self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None
