"""Soak of the card verification API (P1): a steady rate for minutes, errors and worker memory.

Run: ``.venv/bin/python -m bench.soak_p1 --rate 150 --minutes 10 [--database sqlite]
[--workers 2] [--reuse]`` (set-up as P1, :mod:`bench.verification_api`; the PostgreSQL
database is ``onshi_bench`` unless ``--db-name``).

Unlike P1's maximum-rate runs, which send submissions prepared beforehand (challenges live
120 s), every verification here is what a reader does: ``POST …/challenges``, the card's RSA
signature over the challenge (in the generator), ``POST /api/v1/verifications``. Verifications
start at ``--rate`` per second (open loop: latency counts from the scheduled start, so a slow
server is not hidden), over up to ``--connections`` keep-alive connections. Every answer must
be 201 then 200 with a ``result_code``; the new ``verification_events`` rows must equal the
answers. Every 10 s the RSS of each server worker is sampled; the report compares the first
and the last minute (flat memory: no growth beyond noise) and prints per-minute rates, p50 and
p99 of the whole pair and of the submission.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench._cpu import children
from bench._loadgen import HOST, _read_response, b64u, http_post, sign_request
from bench._verification_setup import count_events, load_setup, prepare
from bench.verification_api import CHALLENGES, CONSENTS, SUBMIT, start_server


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Tally:
    started: float
    ok: int = 0
    bad: int = 0
    bad_sample: str = ""
    per_minute: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    rss: list[tuple[float, dict[int, int]]] = field(default_factory=list)

    def record(self, at: float, total: float, submit: float) -> None:
        self.per_minute.setdefault(int((at - self.started) // 60), []).append((total, submit))


async def soak(  # noqa: PLR0915 - one closure per step of a reader
    args: argparse.Namespace, setup: Any, port: int, workers: list[int]
) -> Tally:
    devices = [
        (d.device_id, Ed25519PrivateKey.from_private_bytes(d.private_key_raw))
        for d in setup.devices
    ]
    cards = []
    for card in setup.cards:
        key = serialization.load_pem_private_key(card.key_pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        cards.append((b64u(card.certificate_der), key))
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    opened = 0
    tally = Tally(started=time.perf_counter())
    in_flight = 0

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        nonlocal opened
        if idle.empty() and opened < args.connections:
            opened += 1
            return await asyncio.open_connection(HOST, port)
        return await idle.get()

    async def exchange(pair: Any, request: bytes) -> tuple[int, bytes]:
        reader, writer = pair
        writer.write(request)
        return await _read_response(reader)

    async def one(n: int, scheduled: float) -> None:
        nonlocal in_flight
        in_flight += 1
        device_id, device_key = devices[n % len(devices)]
        certificate, card_key = cards[n % len(cards)]
        pair = await connection()
        try:
            now = int(time.time())
            status, body = await exchange(
                pair,
                http_post(
                    CHALLENGES, sign_request(device_key, device_id, CHALLENGES, {}, now), port
                ),
            )
            if status != 201:
                raise RuntimeError(f"challenge {status} {body[:200]!r}")
            issued = json.loads(body)
            raw = issued["challenge"]
            challenge = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            signature = card_key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())
            submission = {
                "challenge_id": issued["challenge_id"],
                "certificate": certificate,
                "method": "pin",
                "proof": {"signature": b64u(signature)},
                "consents": dict(CONSENTS),
                "limit_info": True,
                "institution_patient_number": None,
            }
            sent = time.perf_counter()
            status, body = await exchange(
                pair,
                http_post(
                    SUBMIT, sign_request(device_key, device_id, SUBMIT, submission, now), port
                ),
            )
            done = time.perf_counter()
            if status == 200 and b'"result_code"' in body:
                tally.ok += 1
                tally.record(done, done - scheduled, done - sent)
            else:
                raise RuntimeError(f"verification {status} {body[:200]!r}")
        except Exception as exc:  # every failure is counted and shown, none stops the soak
            tally.bad += 1
            tally.bad_sample = tally.bad_sample or str(exc)
            pair[1].close()
            pair = await asyncio.open_connection(HOST, port)
        finally:
            idle.put_nowait(pair)
            in_flight -= 1

    async def sample_memory() -> None:
        while True:
            tally.rss.append(
                (time.perf_counter() - tally.started, {p: _rss_kib(p) for p in workers})
            )
            await asyncio.sleep(10)

    sampler = asyncio.ensure_future(sample_memory())
    tasks = []
    total = int(args.rate * args.minutes * 60)
    for n in range(total):
        scheduled = tally.started + n / args.rate
        delay = scheduled - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(n, scheduled)))
        if len(tasks) > 5000:
            tasks = [t for t in tasks if not t.done()]
    await asyncio.gather(*tasks)
    sampler.cancel()
    tally.rss.append((time.perf_counter() - tally.started, {p: _rss_kib(p) for p in workers}))
    return tally


def _ms(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="onshi_bench")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "onshi-soak-p1")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    setup = (load_setup if args.reuse else prepare)(
        args.dir,
        database=args.database,
        postgres_url=args.postgres_url,
        db_name=args.db_name,
        people=3000,
        cards=300,
        devices=8,
    )
    server = start_server(setup, args.dir, args.workers)
    workers = [
        pid
        for pid in children(server.process.pid)
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ] or [server.process.pid]
    load_before = os.getloadavg()[0]
    before = count_events(setup.database_url)
    try:
        tally: Tally = uvloop.run(soak(args, setup, server.port, workers))
    finally:
        time.sleep(1.0)
        events = count_events(setup.database_url) - before
        server.stop()
    print(
        f"soak: {args.rate:,.0f} verifications/s for {args.minutes:g} min, {args.workers} "
        f"workers ({args.database}); load average {load_before:.2f} → {os.getloadavg()[0]:.2f}"
    )
    print(f"answers ok {tally.ok:,}, errors {tally.bad:,}, new events {events:,}")
    if tally.bad_sample:
        print(f"first error: {tally.bad_sample}")
    for minute, samples in sorted(tally.per_minute.items()):
        pair = [total for total, _ in samples]
        submit = [s for _, s in samples]
        print(
            f"  minute {minute + 1:>2}: {len(samples) / 60:7.1f}/s  challenge + verification "
            f"p50 {_ms(pair, 50):6.1f} ms p99 {_ms(pair, 99):7.1f} ms; verification alone "
            f"p50 {_ms(submit, 50):6.1f} ms p99 {_ms(submit, 99):7.1f} ms"
        )
    for pid in workers:
        series = [(at, rss[pid]) for at, rss in tally.rss if rss.get(pid)]
        first = [kib for at, kib in series if at <= 60]
        last = [kib for at, kib in series if at >= series[-1][0] - 60]
        print(
            f"  worker {pid} RSS (MiB, every 10 s): "
            + " ".join(f"{kib / 1024:.0f}" for _, kib in series)
            + f"; first minute mean {statistics.mean(first) / 1024:.1f}, last minute mean "
            f"{statistics.mean(last) / 1024:.1f}"
        )
    return 0 if tally.bad == 0 and events == tally.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
