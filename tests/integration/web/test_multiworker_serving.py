"""``onshi serve --workers N``: keep-alive answers without the ~40 ms delayed-ACK stall.

Regression test for the multi-worker listener (:mod:`onshi.web.serving`): uvicorn's own
multi-worker path bound the listening socket with protocol 0, so accepted connections never
got ``TCP_NODELAY`` and every keep-alive response after the first waited for the client's
delayed ACK (~40 ms on Linux). This starts the real command as a subprocess (two workers on a
migrated SQLite file, a free loopback port) and times keep-alive requests on one connection:
the stall is a latency class (40 ms against well under 1 ms), so the bound of 10 ms on the
median tells them apart even on a busy machine. It is a correctness check, not a benchmark.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onshi.web.serving import listening_socket, worker_sockets

KEEP_ALIVE_REQUESTS = 15
BOUND_SECONDS = 0.010


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _onshi() -> list[str]:
    script = Path(sys.executable).with_name("onshi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "onshi.cli"]


def _environment(directory: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ONSHI_")}
    env.update(
        {
            "ONSHI_DATA_DIR": str(directory),
            "ONSHI_DATABASE_URL": f"sqlite:///{directory / 'serve.db'}",
            "ONSHI_HOST": "127.0.0.1",
            "ONSHI_PORT": str(port),
            "ONSHI_BATCH_WORKER": "false",
        }
    )
    return env


def _read_response(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def _wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"onshi serve exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                if _read_response(connection).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            time.sleep(0.2)
    else:
        pytest.fail(f"onshi serve did not answer:\n{log.read_text(errors='replace')[-3000:]}")
    text = ""
    while time.monotonic() < deadline:  # every worker up (each logs its start-up)
        text = log.read_text(errors="replace")
        if text.count("Application startup complete") >= 2:
            return
        time.sleep(0.2)
    pytest.fail(f"not every worker started:\n{text[-3000:]}")


@pytest.fixture
def two_worker_server(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = _environment(tmp_path, port)
    subprocess.run(
        [*_onshi(), "migrate"], env=env, check=True, capture_output=True, cwd=tmp_path, timeout=120
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*_onshi(), "serve", "--workers", "2"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_until_up(process, port, log)
        yield port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert process.returncode == 0, log.read_text(errors="replace")[-3000:]


def test_keep_alive_requests_to_a_two_worker_server_answer_without_the_ack_delay(
    two_worker_server: int,
) -> None:
    timings = []
    with socket.create_connection(("127.0.0.1", two_worker_server), timeout=5) as connection:
        for _ in range(KEEP_ALIVE_REQUESTS + 1):
            started = time.perf_counter()
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            answer = _read_response(connection)
            timings.append(time.perf_counter() - started)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    later = timings[1:]  # the first answer never waited: nothing was in flight before it
    assert statistics.median(later) < BOUND_SECONDS, [f"{t * 1000:.1f} ms" for t in later]


def test_the_listening_sockets_are_tcp_with_one_reuse_port_socket_per_worker() -> None:
    sockets = worker_sockets("127.0.0.1", 0, 3, shared=False)
    try:
        assert len(sockets) == 3
        assert len({sock.getsockname() for sock in sockets}) == 1  # the same address
        for sock in sockets:
            assert sock.proto == socket.IPPROTO_TCP
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        for sock in sockets:
            sock.close()
    shared = worker_sockets("127.0.0.1", 0, 3, shared=True)
    try:
        assert len(shared) == 1
        assert shared[0].proto == socket.IPPROTO_TCP
    finally:
        shared[0].close()


def test_a_connection_accepted_by_asyncio_on_the_listener_gets_tcp_nodelay() -> None:
    """The mechanism itself: asyncio sets TCP_NODELAY only on sockets of protocol IPPROTO_TCP,
    and an accepted socket inherits the listener's protocol."""
    import asyncio

    async def accepted_nodelay(sock: socket.socket) -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            raw = writer.get_extra_info("socket")
            seen.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=sock)
        async with server:
            _reader, writer = await asyncio.open_connection(*sock.getsockname())
            value = await asyncio.wait_for(seen, 5)
            writer.close()
            return value

    assert asyncio.run(accepted_nodelay(listening_socket("127.0.0.1", 0, reuse_port=True))) != 0
    legacy = socket.socket(socket.AF_INET)  # what uvicorn's multi-worker path binds
    legacy.bind(("127.0.0.1", 0))
    assert asyncio.run(accepted_nodelay(legacy)) == 0  # the flaw the fix avoids
