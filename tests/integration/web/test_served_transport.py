"""`onshi serve` as deployed (a subprocess, one worker and two): forwarded headers are believed
only from ONSHI_TRUSTED_PROXIES, so per-address sign-in limits cannot be dodged by rotating
X-Forwarded-For; no `server` header; the API sets no cookie and is never cached."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.integration.web.live_helpers import free_port

ATTEMPTS = 3
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("served")
    subprocess.run(
        [sys.executable, "-m", "onshi.cli", "migrate"],
        env=_env(directory, trusted=""),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return directory


def _env(directory: Path, *, trusted: str, port: int = 0) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ONSHI_", "FORWARDED_ALLOW_IPS"))
    }
    env.update(
        ONSHI_DATA_DIR=str(directory),
        ONSHI_ENV="development",
        ONSHI_PORT=str(port or 8000),
        ONSHI_SECURE_COOKIES="false",
        ONSHI_SIGN_IN_ATTEMPTS=str(ATTEMPTS),
        ONSHI_BATCH_WORKER="false",
        ONSHI_TRUSTED_PROXIES=trusted,
    )
    return env


@contextmanager
def served(directory: Path, *, workers: int, trusted: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "onshi.cli", "serve", "--workers", str(workers)],
        env=_env(directory, trusted=trusted, port=port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"onshi serve did not start: {process.stderr}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _rotated_sign_ins(base: str, count: int) -> list[int]:
    """Wrong passwords for ``count`` different login ids, each claiming another address."""
    statuses = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for attempt in range(count):
            match = _CSRF.search(client.get("/clinic/sign-in").text)
            assert match is not None
            answer = client.post(
                "/clinic/sign-in",
                data={
                    "login_id": f"nobody-{attempt}-{time.monotonic_ns()}",
                    "password": "wrong-password-123",
                    "csrf_token": match.group(1),
                },
                headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
            )
            statuses.append(answer.status_code)
    return statuses


@pytest.mark.parametrize("workers", [1, 2])
def test_forwarded_for_from_an_untrusted_peer_is_ignored(data_dir: Path, workers: int) -> None:
    with served(data_dir, workers=workers, trusted="") as base:
        statuses = _rotated_sign_ins(base, ATTEMPTS + 3)
        # per address (the real one, loopback): throttled after the limit, whatever XFF says
        assert 429 in statuses, statuses
        assert statuses.count(429) >= 3, statuses
        page = httpx.get(base + "/clinic/sign-in")
        assert "server" not in page.headers
        api = httpx.get(base + "/api/v1/devices/me")
        assert api.status_code == 400  # no signature: malformed
        assert "server" not in api.headers
        assert "set-cookie" not in api.headers
        assert api.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("workers", [2])
def test_a_trusted_proxy_passes_the_client_address(data_dir: Path, workers: int) -> None:
    with served(data_dir, workers=workers, trusted="127.0.0.1") as base:
        # each forwarded client is its own address: none reaches the per-address limit
        statuses = _rotated_sign_ins(base, ATTEMPTS + 3)
        assert 429 not in statuses, statuses
