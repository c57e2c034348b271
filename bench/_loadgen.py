"""A small HTTP/1.1 load generator for the benchmarks (loopback only): keep-alive connections
over asyncio (uvloop when installed), requests prepared as bytes, latencies in seconds.

- :func:`closed_loop`: ``connections`` connections each send the next request as soon as the
  previous answer arrived, until the deadline; requests in flight at the deadline are waited
  for (so every request sent is counted: the durability check can be exact).
- :func:`paced`: open loop at a fixed rate; latency counts from the *scheduled* send time, so a
  slow server is not hidden by the generator waiting for it (no coordinated omission).
- :func:`run_processes`: the same in several processes (each signs its own device requests
  just before the start, as the JWS ``iat`` must be within 60 s of the server's clock).
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HOST = "127.0.0.1"
Check = Callable[[int, bytes], bool]


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    ok: int = 0
    bad_sample: str = ""
    elapsed: float = 0.0
    exhausted: bool = False
    saturated: bool = False  # a paced run stopped early: the server fell too far behind
    bodies: list[tuple[int, bytes]] = field(default_factory=list)

    def merge(self, other: Result) -> None:
        self.latencies.extend(other.latencies)
        self.statuses.update(other.statuses)
        self.ok += other.ok
        self.bad_sample = self.bad_sample or other.bad_sample
        self.elapsed = max(self.elapsed, other.elapsed)
        self.exhausted = self.exhausted or other.exhausted
        self.saturated = self.saturated or other.saturated
        self.bodies.extend(other.bodies)

    @property
    def count(self) -> int:
        return len(self.latencies)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign_request(
    key: Ed25519PrivateKey, device_id: int, path: str, body: dict[str, Any], iat: int
) -> str:
    """The compact JWS of docs/api/device-protocol.md for ``POST path`` with ``body``."""
    header = {"alg": "EdDSA", "typ": "onshi-device+jws", "kid": str(device_id)}
    payload = {"htm": "POST", "htu": path, "iat": iat, "jti": b64u(secrets.token_bytes(16)),
               "body": body}  # fmt: skip
    signing_input = f"{b64u(_json(header))}.{b64u(_json(payload))}"
    return f"{signing_input}.{b64u(key.sign(signing_input.encode('ascii')))}"


def http_post(path: str, token: str, port: int) -> bytes:
    data = token.encode("ascii")
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/jose\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode("ascii") + data


def http_get(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode("ascii")


def signed_posts(
    keys: dict[int, bytes], items: Sequence[tuple[int, dict[str, Any]]], path: str, port: int
) -> list[bytes]:
    """HTTP requests for ``(device_id, body)`` items, signed now."""
    loaded = {device: Ed25519PrivateKey.from_private_bytes(raw) for device, raw in keys.items()}
    iat = int(time.time())
    return [
        http_post(path, sign_request(loaded[device], device, path, body, iat), port)
        for device, body in items
    ]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        raise RuntimeError(f"no content-length in {head[:200]!r}")
    end = lower.index(b"\r\n", at + 2)
    length = int(lower[at + 17 : end])
    return status, await reader.readexactly(length)


def _record(result: Result, status: int, body: bytes, latency: float, check: Check) -> None:
    result.latencies.append(latency)
    result.statuses[status] += 1
    if check(status, body):
        result.ok += 1
    elif not result.bad_sample:
        result.bad_sample = f"{status} {body[:300]!r}"


async def closed_loop(
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int,
    seconds: float,
    check: Check,
    keep_bodies: bool = False,
) -> Result:
    result = Result()
    position = iter(range(len(requests)))
    started = time.perf_counter()
    deadline = started + seconds

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < deadline:
                index = next(position, None)
                if index is None:
                    result.exhausted = True
                    return
                sent = time.perf_counter()
                writer.write(requests[index])
                status, body = await _read_response(reader)
                _record(result, status, body, time.perf_counter() - sent, check)
                if keep_bodies:
                    result.bodies.append((index, body))
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    result.elapsed = time.perf_counter() - started
    return result


async def paced(
    port: int,
    requests: Sequence[bytes],
    *,
    rate: float,
    seconds: float,
    check: Check,
    max_connections: int = 512,
    max_backlog_seconds: float = 0.5,
) -> Result:
    """Requests are sent at ``rate`` until ``seconds`` of them are sent or the answers are more
    than ``max_backlog_seconds`` of requests behind (``saturated``: the rate is not sustained;
    only the requests sent are counted)."""
    result = Result()
    count = min(len(requests), int(rate * seconds))
    result.exhausted = count < int(rate * seconds)
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    opened: list[asyncio.StreamWriter] = []
    for _ in range(16):
        pair = await asyncio.open_connection(HOST, port)
        opened.append(pair[1])
        idle.put_nowait(pair)

    in_flight = 0

    async def send(index: int, scheduled: float) -> None:
        nonlocal in_flight
        in_flight += 1
        if idle.empty() and len(opened) < max_connections:
            pair = await asyncio.open_connection(HOST, port)
            opened.append(pair[1])
        else:
            pair = await idle.get()
        reader, writer = pair
        writer.write(requests[index])
        status, body = await _read_response(reader)
        _record(result, status, body, time.perf_counter() - scheduled, check)
        idle.put_nowait(pair)
        in_flight -= 1

    tasks = []
    started = time.perf_counter() + 0.05
    for index in range(count):
        scheduled = started + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        if in_flight > rate * max_backlog_seconds:
            result.saturated = True
            break
        tasks.append(asyncio.ensure_future(send(index, scheduled)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - started
    for writer in opened:
        writer.close()
    return result


def run(coroutine: Any) -> Result:
    try:
        import uvloop

        return uvloop.run(coroutine)  # type: ignore[no-any-return]
    except ImportError:  # pragma: no cover - uvloop is a dependency of the server
        return asyncio.run(coroutine)  # type: ignore[no-any-return]


def is_verification(status: int, body: bytes) -> bool:
    return status == 200 and b'"result_code"' in body


def is_plain_ok(status: int, body: bytes) -> bool:
    return status == 200 and body == b"ok"


@dataclass(frozen=True)
class Job:
    """One generator process: sign ``items`` (or send ``plain_path``), then run."""

    port: int
    path: str
    keys: dict[int, bytes]
    items: list[tuple[int, dict[str, Any]]]
    seconds: float
    rate: float | None  # None: closed loop
    connections: int
    plain_path: str | None = None
    plain_count: int = 0


def _child(job: Job, barrier: Any, queue: Any) -> None:
    if job.plain_path is not None:
        requests = [http_get(job.plain_path, job.port)] * job.plain_count
        check: Check = is_plain_ok
    else:
        requests = signed_posts(job.keys, job.items, job.path, job.port)
        check = is_verification
    barrier.wait()
    if job.rate is None:
        result = run(
            closed_loop(
                job.port, requests, connections=job.connections, seconds=job.seconds, check=check
            )
        )
    else:
        result = run(paced(job.port, requests, rate=job.rate, seconds=job.seconds, check=check))
    queue.put(result)


def run_processes(jobs: list[Job]) -> Result:
    """Run ``jobs`` in parallel processes starting together; the merged result."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    queue = context.Queue()
    processes = [context.Process(target=_child, args=(job, barrier, queue)) for job in jobs]
    for process in processes:
        process.start()
    merged = Result()
    for _ in processes:
        merged.merge(queue.get(timeout=max(job.seconds for job in jobs) + 300))
    for process in processes:
        process.join(timeout=30)
    return merged
