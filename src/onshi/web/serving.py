"""Serving the app with several uvicorn worker processes (``onshi serve --workers N``).

Why not ``uvicorn.run(..., workers=N)``: its multi-worker path binds the listening socket as
``socket.socket(AF_INET)``, i.e. with protocol 0. asyncio sets ``TCP_NODELAY`` on an accepted
connection only when the socket's protocol is ``IPPROTO_TCP``, and an accepted socket inherits
the listener's, so no connection of a multi-worker uvicorn got ``TCP_NODELAY``: every
keep-alive response after the first waited ~40 ms for the client's delayed ACK (Nagle), and a
two-worker server answered ``/healthz`` at a flat ~43 ms (730 requests/s instead of thousands;
uvicorn issue #3149). The single-worker path is not affected (``loop.create_server`` binds
with the address's own protocol).

Here the listening sockets are bound with ``IPPROTO_TCP`` (so accepted connections get
``TCP_NODELAY`` from asyncio), and each worker gets **its own** listening socket on the same
address with ``SO_REUSEPORT``: the kernel spreads new connections over the workers' accept
queues by a hash of the connection's addresses. With one shared socket, asyncio's accept loop
takes up to ``backlog`` waiting connections at once, so a burst of keep-alive connections
(a load balancer's, or a benchmark's) all went to whichever worker woke first while the others
idled. ``shared=True`` keeps the single shared socket (for systems without ``SO_REUSEPORT``).

The supervisor is small and uses only uvicorn's public ``Config`` / ``Server.run(sockets)``:
it starts the workers (``spawn``), restarts a worker that died (with the same socket, whose
queue kept the connections that arrived meanwhile), stops when a worker fails at start-up
(a broken configuration would fail the same way on every restart), and on SIGTERM/SIGINT asks
every worker to stop (each one drains for the graceful-shutdown time) and waits for them.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from typing import Any, Final

log = logging.getLogger("uvicorn.error")  # configured by uvicorn.Config

STARTUP_FAILURE: Final = 3  # uvicorn's exit status for "could not start"
_POLL_SECONDS: Final = 0.5


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP listening socket bound with ``IPPROTO_TCP`` (see the module docstring). Not yet
    listening: uvicorn's ``create_server(sock=…)`` calls ``listen`` with its backlog."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def worker_sockets(host: str, port: int, workers: int, *, shared: bool) -> list[socket.socket]:
    """One socket per worker on ``host:port`` (``SO_REUSEPORT``), or one shared socket."""
    if shared or not hasattr(socket, "SO_REUSEPORT"):
        return [listening_socket(host, port, reuse_port=False)]
    first = listening_socket(host, port, reuse_port=True)
    bound_port = first.getsockname()[1]  # port 0: the others join the port the first got
    sockets = [first]
    try:
        sockets += [listening_socket(host, bound_port, reuse_port=True) for _ in range(workers - 1)]
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    for sock in sockets:
        sock.listen(2048)  # join the kernel's balancing group now, not when a worker starts
    return sockets


def _worker(config_kwargs: Mapping[str, Any], sock: socket.socket) -> None:
    """A worker process: uvicorn on an already bound socket."""
    import uvicorn

    config = uvicorn.Config(**config_kwargs)
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # the parent stops us with SIGTERM
        server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    """``workers`` processes serving ``config_kwargs`` (uvicorn ``Config`` arguments)."""

    def __init__(
        self, config_kwargs: Mapping[str, Any], sockets: list[socket.socket], workers: int
    ) -> None:
        self.config_kwargs = dict(config_kwargs)
        self.sockets = sockets
        self.workers = workers
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[Any] = []
        self._stop = threading.Event()
        self.failed = False

    def _socket_for(self, index: int) -> socket.socket:
        return self.sockets[index % len(self.sockets)]

    def _start(self, index: int) -> Any:
        process = self._context.Process(
            target=_worker,
            args=(self.config_kwargs, self._socket_for(index)),
            name=f"onshi-worker-{index}",
        )
        process.start()
        log.info("started worker %d [%s]", index, process.pid)
        return process

    def _on_signal(self, signum: int, _frame: object) -> None:
        log.info("received %s, stopping the workers", signal.Signals(signum).name)
        self._stop.set()

    def run(self) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self._processes = [self._start(index) for index in range(self.workers)]
            while not self._stop.wait(_POLL_SECONDS):
                self._keep_alive()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in self.sockets:
                sock.close()
        return 1 if self.failed else 0

    def _keep_alive(self) -> None:
        for index, process in enumerate(self._processes):
            if process.is_alive():
                continue
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker %d [%s] failed to start; stopping", index, process.pid)
                self.failed = True
                self._stop.set()
                return
            if self._stop.is_set():
                return
            log.warning(
                "worker %d [%s] died (exit %s); restarting", index, process.pid, process.exitcode
            )
            self._processes[index] = self._start(index)

    def _stop_all(self) -> None:
        grace = float(self.config_kwargs.get("timeout_graceful_shutdown") or 0) + 10.0
        for process in self._processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn drains, then exits
        for process in self._processes:
            process.join(grace)
            if process.is_alive():
                process.kill()
                process.join()


def serve_workers(
    app: str, *, host: str, port: int, workers: int, shared_socket: bool = False, **config: Any
) -> int:
    """Serve the import string ``app`` with ``workers`` processes (see the module docstring).
    ``config``: further uvicorn ``Config`` arguments."""
    import uvicorn

    config_kwargs = {"app": app, "host": host, "port": port, "workers": workers, **config}
    uvicorn.Config(**config_kwargs)  # checks the arguments and sets up logging here too
    sockets = worker_sockets(host, port, workers, shared=shared_socket)
    kind = "one shared socket" if len(sockets) == 1 else "one SO_REUSEPORT socket each"
    log.info("listening on %s:%d, %d workers, %s", host, port, workers, kind)
    return Supervisor(config_kwargs, sockets, workers).run()
