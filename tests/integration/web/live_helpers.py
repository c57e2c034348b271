"""A real HTTP server for live-stream tests (Litestar's TestClient buffers whole responses, so an
endless server-sent event stream needs uvicorn on a loopback port) and a threaded SSE reader."""

from __future__ import annotations

import queue
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import httpx
import uvicorn
from litestar import Litestar

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(app: Litestar) -> Iterator[str]:
    """Serve ``app`` (lifespan included) on 127.0.0.1 in a thread; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        assert not thread.is_alive(), "test server did not stop"


@contextmanager
def signed_in_client(base_url: str, login_id: str, password: str) -> Iterator[httpx.Client]:
    """An HTTP client signed in as a clinic staff member (cookies kept in the client)."""
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0, read=30.0)) as client:
        form = client.get("/clinic/sign-in")
        match = _CSRF_INPUT.search(form.text)
        assert match is not None, "no CSRF field on the sign-in page"
        answer = client.post(
            "/clinic/sign-in",
            data={"login_id": login_id, "password": password, "csrf_token": match.group(1)},
        )
        assert answer.status_code == 303, answer.text[:500]
        yield client


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str
    id: str | None


class SseReader:
    """Reads one event stream in a thread; ``next(event=…)`` waits for the next such event."""

    def __init__(self, client: httpx.Client, path: str, headers: dict[str, str] | None = None):
        self.events: queue.Queue[SseEvent | BaseException] = queue.Queue()
        self.status: int | None = None
        self.headers: httpx.Headers | None = None
        self._opened = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(
            target=self._run, args=(client, path, headers or {}), daemon=True
        )
        self._thread.start()
        assert self._opened.wait(10), "the stream did not open"

    def _run(self, client: httpx.Client, path: str, headers: dict[str, str]) -> None:
        try:
            with client.stream("GET", path, headers=headers) as response:
                self._response = response
                self.status = response.status_code
                self.headers = response.headers
                self._opened.set()
                fields: dict[str, list[str]] = {}
                for line in response.iter_lines():
                    if line == "":
                        if "data" in fields:
                            self.events.put(
                                SseEvent(
                                    event=(fields.get("event") or ["message"])[-1],
                                    data="\n".join(fields["data"]),
                                    id=(fields.get("id") or [None])[-1],
                                )
                            )
                        fields = {}
                        continue
                    if line.startswith(":"):
                        continue
                    name, _, value = line.partition(":")
                    fields.setdefault(name, []).append(value.removeprefix(" "))
        except BaseException as exc:
            self.events.put(exc)
        finally:
            self._opened.set()

    def next(self, event: str = "verification", timeout: float = 10.0) -> SseEvent:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event!r} event within {timeout} s")
            try:
                item = self.events.get(timeout=left)
            except queue.Empty as exc:
                raise AssertionError(f"no {event!r} event within {timeout} s") from exc
            if isinstance(item, BaseException):
                raise AssertionError(f"the stream ended: {item!r}")
            if item.event == event:
                return item

    def nothing_within(self, seconds: float) -> None:
        with suppress(queue.Empty):
            item = self.events.get(timeout=seconds)
            if isinstance(item, SseEvent):
                raise AssertionError(f"unexpected event {item.event}: {item.data[:300]}")

    def ended_within(self, seconds: float) -> bool:
        """True when the server ended the stream within ``seconds`` (no event in between)."""
        self._thread.join(timeout=seconds)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Stop reading. The thread ends when the server ends the stream (at the latest when
        :func:`live_server` shuts down, which cancels open streams after one second)."""
        if self._response is not None:
            with suppress(Exception):
                self._response.close()
        self._thread.join(timeout=0.2)
