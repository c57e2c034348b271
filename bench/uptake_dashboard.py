"""Uptake dashboard pages (P4) at national size: p50 / p95 per page, goal p95 ≤ 100 ms.

Run: ``.venv/bin/python -m bench.uptake_dashboard [--dir DIR] [--requests N] [--database URL]``.

Set-up (not measured): a fresh SQLite database (or ``--database postgresql://…``, which must be
empty), ``onshi migrate`` and ``onshi seed --people 1 --institutions 0``: all 229,981 generated
institutions with their milestones and 開設者, the weekly uptake rollup from 2020-05-03 to the
as-of week (309 weeks × 188 prefecture-type cells), the monthly use rollup from 2021-10
(54 months × 188 cells) and the registrations, built by the same refresh ``onshi seed`` runs.
Only one person is generated: the dashboard reads rollups, never people or events, so the full
1,000,000-person large seed adds nothing these pages read (its use rollups have the same rows,
with larger counts). Then ``onshi serve`` (one worker) starts on a free loopback port, the demo
administrator signs in, and each page is requested ``--requests`` times in sequence over one
keep-alive connection after 3 warm-up requests. Times are measured by the client around each
request (loopback, so they include the server's whole work and a fraction of a millisecond of
transport): an upper bound of the server time. Exit status 1 if any page's p95 exceeds 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

GOAL_MS = 100.0
ADMIN = ("demo-admin", "Onshi-Kanri-2026!")
PAGES = (
    ("adoption (system, hospitals, operating)", "/admin/uptake"),
    (
        "adoption (all types, ready / duty, 3 prefecture lines)",
        "/admin/uptake?type=total&measure=ready_rate_mandatory&pref=13&pref=27&pref=01",
    ),
    ("adoption (official)", "/admin/uptake?source=official&type=medical_clinic"),
    ("use (card share, Tokyo line)", "/admin/uptake/usage?type=total&pref=13&as_of=2026-01-31"),
    ("drill-down Tokyo (35k institutions), page 40", "/admin/uptake/prefectures/13?page=40"),
    (
        "drill-down Tokyo, search 中央 (htmx fragment)",
        "/admin/uptake/prefectures/13?q=%E4%B8%AD%E5%A4%AE",
    ),
    ("export rankings CSV", "/admin/uptake/export?table=rankings&format=csv"),
    ("export prefecture JSON", "/admin/uptake/export?table=prefecture&format=json"),
)


def server_env(directory: Path, url: str, port: int) -> dict[str, str]:
    """The environment of a benchmark's own development server on a loopback port."""
    return {
        **os.environ,
        "ONSHI_DATA_DIR": str(directory),
        "ONSHI_ENV": "development",
        "ONSHI_DATABASE_URL": url,
        "ONSHI_PORT": str(port),
        "ONSHI_SECURE_COOKIES": "false",
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Client:
    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data


def _wait(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def main() -> int:  # noqa: PLR0915 - set-up, run and report in one readable place
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database", default=None, help="an EMPTY PostgreSQL database URL")
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="onshi-bench-uptake-"))
    directory.mkdir(parents=True, exist_ok=True)
    url = args.database or f"sqlite:///{directory / 'onshi.sqlite3'}"
    port = _free_port()
    env = server_env(directory, url, port)
    onshi = str(Path(sys.executable).parent / "onshi")
    seeded = directory / ".seeded"
    if not seeded.exists():
        subprocess.run([onshi, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        started = time.monotonic()
        subprocess.run(
            [onshi, "seed", "--people", "1", "--institutions", "0"], env=env, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"set-up: seeded 229,981 institutions and the rollups in "
              f"{time.monotonic() - started:,.1f} s ({url.split('://')[0]})")  # fmt: skip
        seeded.touch()
    server = subprocess.Popen(
        [onshi, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    failed = False
    try:
        _wait(port)
        client = Client(port)
        _status, form = client.request("GET", "/admin/sign-in")
        match = re.search(rb'name="csrf_token" value="([^"]+)"', form)
        if match is None:
            raise SystemExit("no CSRF field on the sign-in form")
        body = urlencode(
            {"login_id": ADMIN[0], "password": ADMIN[1], "csrf_token": match.group(1).decode()}
        )
        status, _ = client.request("POST", "/admin/sign-in", body=body)
        if status not in (302, 303):
            raise SystemExit(f"sign-in failed: {status}")
        print(f"load average before: {os.getloadavg()}")
        print(f"{'page':58} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, path in PAGES:
            headers = {"HX-Request": "true"} if "htmx" in label else None
            times = []
            for i in range(args.requests + 3):
                started = time.perf_counter()
                status, data = client.request("GET", path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200 or not data:
                    raise SystemExit(f"{path}: status {status}")
                if i >= 3:
                    times.append(elapsed)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            failed |= p95 > GOAL_MS
            print(f"{label:58} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}")
        print(f"load average after: {os.getloadavg()}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("goal p95 ≤ 100 ms:", "FAILED" if failed else "met")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
