"""Card verifications through the HTTP API (P1): verifications/s, ratio to /healthz, p99 at 1,000/s.

Run: ``.venv/bin/python -m bench.verification_api [--database postgresql|sqlite] [--workers N]
[--seconds S] [--rate R] [--generator wrk|python]``.

Set-up (not measured, :mod:`bench._verification_setup`): a fresh database (PostgreSQL
``onshi_bench`` by default) with ``onshi migrate`` + ``onshi seed --people N``, a development PKI
with ``--cards`` card certificates issued to seeded persons (one current, 5-item matched
qualification each) and linked to them, and ``--devices`` paired readers at distinct
institutions. The real server then starts as a subprocess: ``onshi serve --workers N`` on a free
loopback port with production settings (``ONSHI_ENV=production``, explicit secrets, the dev CA
and its CRL as the JPKI trust anchor, no in-app batch worker).

What one measured request is: ``POST /api/v1/verifications`` (method ``pin``), device-signed
(Ed25519 JWS, unique ``jti``), carrying the card's DER certificate and its RSA-2048 signature
over a challenge, 4 consents + 限度額. The server checks the JWS and nonce, the challenge, the
certificate chain and CRL, the card signature, finds the linked person, computes the result,
stores 5 consents (each with a hash-chained audit event), the verification event and the access
log row, and commits before answering. The challenges are fetched through the real API
(``POST /api/v1/verifications/challenges``, reported separately) and signed by the cards in a
preparation phase just before each run, because a card's RSA signature costs the client
~0.5 ms and a real card takes hundreds of ms: a verification here is the submission, not the
challenge + submission pair. The JWS are signed right before each run (``iat`` ±60 s).

Runs, all against the same server: ``/healthz`` at maximum rate (wrk), verifications at maximum
rate (wrk, or the Python generator), and verifications paced at ``--rate`` (1,000/s; open loop,
latency from the scheduled send time) for p50/p90/p99. Correctness: every answer must be 200
with a ``result_code``, and the number of new ``verification_events`` rows must equal the number
of successful answers (exactly for the Python generator; wrk drops the answers in flight when it
stops, so there the new rows may exceed the answers by at most its connection count).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import BENCH_DIR
from bench._cpu import CpuMeter
from bench._loadgen import Job, Result, b64u, closed_loop, run, run_processes, signed_posts
from bench._verification_setup import (
    Card,
    Setup,
    count_events,
    load_setup,
    onshi_command,
    prepare,
)
from onshi.audit.note import Signer

SUBMIT = "/api/v1/verifications"
CHALLENGES = "/api/v1/verifications/challenges"
CONSENTS = {"health_check": True, "drug": True, "clinical": False, "surgery": False}
GOAL = 2_000
CHALLENGE_BATCH = 2_000
LUA = BENCH_DIR / "verification_api.lua"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(setup: Setup, workdir: Path, workers: int) -> Server:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ONSHI_")}
    env.update(
        {
            "ONSHI_ENV": "production",
            "ONSHI_DATA_DIR": str(workdir),
            "ONSHI_DATABASE_URL": setup.database_url,
            "ONSHI_SECRET_KEY": secrets.token_urlsafe(48),
            "ONSHI_MY_NUMBER_KEY": secrets.token_urlsafe(48),
            "ONSHI_HOST": "127.0.0.1",
            "ONSHI_PORT": str(port),
            "ONSHI_PUBLIC_ORIGIN": f"https://127.0.0.1:{port}",
            # Production requires the TLS-terminating proxy to be named; the load comes from
            # loopback, which sends no forwarded headers.
            "ONSHI_TRUSTED_PROXIES": "127.0.0.1",
            # The proxy in front keeps the access log (docs/performance.md).
            "ONSHI_ACCESS_LOG": "false",
            "ONSHI_JPKI_TRUST_ANCHORS": str(setup.pki.ca_path),
            "ONSHI_JPKI_CRLS": str(setup.pki.crl_path),
            "ONSHI_BATCH_WORKER": "false",
            # Production requires the transparency log's key (its app workers integrate).
            "ONSHI_TLOG_SIGNING_KEY": Signer.generate("bench.onshi.test/transparency").encode(),
        }
    )
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*onshi_command(), "serve", "--workers", str(workers)],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    time.sleep(1.0 if workers > 1 else 0.2)  # let every worker come up
                    return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise SystemExit(f"the server did not answer /healthz:\n{log.read_text(errors='replace')}")


# --- preparing submissions ----------------------------------------------------------------------


def _sign_with_card(work: tuple[bytes, list[bytes]]) -> list[bytes]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key_pem, challenges = work
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return [key.sign(raw, padding.PKCS1v15(), hashes.SHA256()) for raw in challenges]


@dataclass
class Prepared:
    items: list[tuple[int, dict[str, Any]]]
    challenge_rate: float
    started: float  # monotonic time of the first challenge (they live 120 s)


def prepare_submissions(setup: Setup, port: int, count: int, pool: ProcessPoolExecutor) -> Prepared:
    """``count`` submission bodies: challenges through the API, signed by the cards."""
    keys = {device.device_id: device.private_key_raw for device in setup.devices}
    devices = [setup.devices[n % len(setup.devices)].device_id for n in range(count)]
    started = time.monotonic()
    challenges: list[dict[str, str]] = [{} for _ in range(count)]
    elapsed = 0.0
    # Signed in batches just before they are sent: on a loaded machine fetching them all could
    # take longer than the JWS iat window (±60 s).
    for first in range(0, count, CHALLENGE_BATCH):
        batch = devices[first : first + CHALLENGE_BATCH]
        requests = signed_posts(keys, [(device, {}) for device in batch], CHALLENGES, port)
        fetched = run(
            closed_loop(
                port,
                requests,
                connections=32,
                seconds=600,
                check=lambda status, _body: status == 201,
                keep_bodies=True,
            )
        )
        if fetched.ok != len(batch):
            raise SystemExit(
                f"challenges: {fetched.ok}/{len(batch)} ok; first failure {fetched.bad_sample}"
            )
        elapsed += fetched.elapsed
        for index, body in fetched.bodies:
            challenges[first + index] = json.loads(body)
    by_card: dict[int, list[int]] = {}
    for n in range(count):
        by_card.setdefault(n % len(setup.cards), []).append(n)
    cards: list[Card] = setup.cards
    work = [
        (cards[c].key_pem, [_raw(challenges[n]["challenge"]) for n in indexes])
        for c, indexes in by_card.items()
    ]
    signatures: list[bytes] = [b""] * count
    for (_c, indexes), signed in zip(
        by_card.items(), pool.map(_sign_with_card, work, chunksize=8), strict=True
    ):
        for n, signature in zip(indexes, signed, strict=True):
            signatures[n] = signature
    certificates = [b64u(card.certificate_der) for card in cards]
    items = [
        (
            devices[n],
            {
                "challenge_id": challenges[n]["challenge_id"],
                "certificate": certificates[n % len(cards)],
                "method": "pin",
                "proof": {"signature": b64u(signatures[n])},
                "consents": dict(CONSENTS),
                "limit_info": True,
                "institution_patient_number": None,
            },
        )
        for n in range(count)
    ]
    return Prepared(items, count / elapsed, started)


def _raw(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- runs ---------------------------------------------------------------------------------------


@dataclass
class Measured:
    rate: float
    count: int
    ok: int
    bad: int
    exhausted: bool
    p50_ms: float
    p90_ms: float
    p99_ms: float
    bad_sample: str = ""
    events: int | None = None
    saturated: bool = False
    app_cpu: float | None = None  # CPU seconds of the server's workers during the run
    db_cpu: float | None = None  # CPU seconds of its PostgreSQL backends during the run


def wrk(
    port: int,
    *,
    seconds: float,
    threads: int,
    connections: int,
    path: str,
    mode: str,
    tokens: list[str] | None = None,
) -> Measured:
    with tempfile.NamedTemporaryFile("w", suffix=".jws", delete=False) as handle:
        handle.write("\n".join(tokens or []) + "\n")
        requests_file = handle.name
    try:
        output = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(LUA),
                f"http://127.0.0.1:{port}{path}",
                "--",
                requests_file,
                str(threads),
                path,
                mode,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 120,
        ).stdout
    finally:
        Path(requests_file).unlink(missing_ok=True)
    match = re.search(r"^WRKJSON (.*)$", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"wrk printed no result:\n{output}")
    data = json.loads(match.group(1))
    counted = data["ok"] + data["bad"]
    return Measured(
        rate=counted / (data["duration_us"] / 1e6),
        count=counted,
        ok=data["ok"],
        bad=data["bad"] + data["socket_errors"],
        exhausted=data["exhausted"] > 0,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        bad_sample=data["first_bad"],
    )


def from_result(result: Result) -> Measured:
    return Measured(
        rate=result.count / result.elapsed,
        count=result.count,
        ok=result.ok,
        bad=result.count - result.ok,
        exhausted=result.exhausted,
        p50_ms=result.percentile(50) * 1000,
        p90_ms=result.percentile(90) * 1000,
        p99_ms=result.percentile(99) * 1000,
        bad_sample=result.bad_sample,
    )


def python_jobs(
    setup: Setup,
    port: int,
    items: list[tuple[int, dict[str, Any]]],
    *,
    processes: int,
    seconds: float,
    rate: float | None,
    connections: int,
) -> list[Job]:
    keys = {device.device_id: device.private_key_raw for device in setup.devices}
    return [
        Job(
            port=port,
            path=SUBMIT,
            keys=keys,
            items=items[n::processes],
            seconds=seconds,
            rate=None if rate is None else rate / processes,
            connections=max(1, connections // processes),
        )
        for n in range(processes)
    ]


def verification_run(
    args: argparse.Namespace, setup: Setup, port: int, prepared: Prepared, seconds: float
) -> Measured:
    before = count_events(setup.database_url)
    meter = CpuMeter(args.server_pid, setup.database_url)
    meter.start()
    if args.generator == "wrk":
        keys = {device.device_id: device.private_key_raw for device in setup.devices}
        tokens = [
            request.split(b"\r\n\r\n", 1)[1].decode("ascii")
            for request in signed_posts(keys, prepared.items, SUBMIT, port)
        ]
        measured = wrk(
            port,
            seconds=seconds,
            threads=args.wrk_threads,
            connections=args.connections,
            path=SUBMIT,
            mode="verification",
            tokens=tokens,
        )
    else:
        jobs = python_jobs(
            setup,
            port,
            prepared.items,
            processes=args.processes,
            seconds=seconds,
            rate=None,
            connections=args.connections,
        )
        measured = from_result(run_processes(jobs))
    time.sleep(1.0)  # answers wrk stopped waiting for still commit
    measured.app_cpu, measured.db_cpu = meter.stop()
    measured.events = count_events(setup.database_url) - before
    return measured


def paced_run(
    args: argparse.Namespace, setup: Setup, port: int, pool: ProcessPoolExecutor, rate: float
) -> Measured:
    """Open loop at ``rate`` for ``--paced-seconds`` (latency from the scheduled send time)."""
    prepared = prepare_submissions(setup, port, int(rate * args.paced_seconds), pool)
    before = count_events(setup.database_url)
    jobs = python_jobs(
        setup,
        port,
        prepared.items,
        processes=args.processes,
        seconds=args.paced_seconds,
        rate=rate,
        connections=args.connections,
    )
    result = run_processes(jobs)
    measured = from_result(result)
    measured.saturated = result.saturated
    measured.events = count_events(setup.database_url) - before
    return measured


def _line(name: str, m: Measured) -> str:
    cpu = ""
    if m.app_cpu is not None and m.events:
        cpu = (
            f"  CPU per verification: app {m.app_cpu * 1000 / m.events:.2f} ms"
            f" + database {(m.db_cpu or 0.0) * 1000 / m.events:.2f} ms"
        )
    return (
        f"{name:<34} {m.rate:>9,.0f}/s  n={m.count:>7,}  ok={m.ok:>7,}  bad={m.bad}  "
        f"p50 {m.p50_ms:6.2f} ms  p90 {m.p90_ms:6.2f} ms  p99 {m.p99_ms:7.2f} ms"
        + ("" if m.events is None else f"  new events {m.events:,}")
        + cpu
    )


def _verified(m: Measured, *, exact: bool, slack: int) -> list[str]:
    problems = []
    if m.bad:
        problems.append(f"{m.bad} answers were not 200 with a result_code: {m.bad_sample}")
    if m.events is not None:
        if exact and m.events != m.ok:
            problems.append(f"{m.events} new verification_events rows for {m.ok} answers")
        if not exact and not m.ok <= m.events <= m.ok + slack:
            problems.append(f"{m.events} new verification_events rows for {m.ok} answers")
    return problems


def main() -> int:  # noqa: PLR0915
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="onshi_bench")
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--cards", type=int, default=300)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0, help="each maximum-rate run")
    parser.add_argument("--rate", type=float, default=1000.0, help="the paced run's rate")
    parser.add_argument("--paced-seconds", type=float, default=15.0)
    parser.add_argument("--generator", choices=("wrk", "python"), default="wrk")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2, help="Python generator processes")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "onshi-bench-p1")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the previous run's database (iterating)"
    )
    args = parser.parse_args()
    if args.generator == "wrk" and shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk) — or use --generator python")
        return 1
    if args.seconds > 40 or args.paced_seconds > 40:
        print("runs are limited to 40 s: challenges live 120 s, JWS iat ±60 s")
        return 2

    setup = (load_setup if args.reuse else prepare)(
        args.dir,
        database=args.database,
        postgres_url=args.postgres_url,
        db_name=args.db_name,
        people=args.people,
        cards=args.cards,
        devices=args.devices,
    )
    server = start_server(setup, args.dir, args.workers)
    args.server_pid = server.process.pid
    problems: list[str] = []
    print(
        f"server: onshi serve --workers {args.workers} on 127.0.0.1:{server.port} "
        f"({args.database}); generator: {args.generator}; {os.cpu_count()} CPUs; "
        f"load average before {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    try:
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            if args.generator == "wrk":
                plain = wrk(
                    server.port,
                    seconds=args.seconds,
                    threads=args.wrk_threads,
                    connections=args.connections,
                    path="/healthz",
                    mode="plain",
                )
            else:
                plain_jobs = [
                    Job(server.port, "", {}, [], args.seconds, None,
                        max(1, args.connections // args.processes), "/healthz",
                        int(args.seconds * 60_000))
                    for _ in range(args.processes)
                ]  # fmt: skip
                plain = from_result(run_processes(plain_jobs))
            print(_line("GET /healthz (max)", plain), flush=True)
            problems += _verified(plain, exact=True, slack=0)

            warm = prepare_submissions(setup, server.port, 2000, pool)
            print(f"challenges (warm-up, 32 connections): {warm.challenge_rate:,.0f}/s", flush=True)
            calibration = verification_run(args, setup, server.port, warm, 3.0)
            print(_line("verifications (warm-up, 3 s)", calibration), flush=True)

            needed = int(max(calibration.rate, 200) * args.seconds * 1.5) + 500
            for _attempt in range(3):
                prepared = prepare_submissions(setup, server.port, needed, pool)
                print(
                    f"prepared {needed:,} submissions "
                    f"(challenges {prepared.challenge_rate:,.0f}/s) "
                    f"in {time.monotonic() - prepared.started:.1f} s",
                    flush=True,
                )
                maximum = verification_run(args, setup, server.port, prepared, args.seconds)
                if not maximum.exhausted:
                    break
                needed *= 2
            print(_line("POST /api/v1/verifications (max)", maximum), flush=True)
            problems += _verified(maximum, exact=args.generator == "python", slack=args.connections)
            if maximum.exhausted:
                problems.append("the maximum-rate run ran out of prepared submissions")

            at_rate = paced_run(args, setup, server.port, pool, args.rate)
            print(_line(f"verifications paced at {args.rate:,.0f}/s", at_rate), flush=True)
            problems += _verified(at_rate, exact=True, slack=0)
            sustained = at_rate
            if at_rate.saturated:
                print(f"  {args.rate:,.0f}/s is not sustained: the answers fell behind", flush=True)
                lower = max(10.0, round(maximum.rate * 0.5, -1))
                sustained = paced_run(args, setup, server.port, pool, lower)
                print(_line(f"verifications paced at {lower:,.0f}/s", sustained), flush=True)
                problems += _verified(sustained, exact=True, slack=0)
    finally:
        server.stop()

    print(f"load average after {os.getloadavg()[0]:.2f} (other processes share these CPUs)")
    print(
        f"\nverifications {maximum.rate:,.0f}/s = {maximum.rate / plain.rate:.3f} × /healthz "
        f"({plain.rate:,.0f}/s); goal ≥ {GOAL:,}/s: {maximum.rate / GOAL:.2f}×\n"
        f"max: p50 {maximum.p50_ms:.1f} ms, p90 {maximum.p90_ms:.1f} ms, "
        f"p99 {maximum.p99_ms:.1f} ms"
        f"; paced {at_rate.rate:,.0f}/s answered (asked {args.rate:,.0f}/s"
        f"{', not sustained' if at_rate.saturated else ''}): p50 {at_rate.p50_ms:.1f} ms, "
        f"p90 {at_rate.p90_ms:.1f} ms, p99 {at_rate.p99_ms:.1f} ms"
        + (
            f"; paced at {sustained.rate:,.0f}/s: p50 {sustained.p50_ms:.1f} ms, "
            f"p90 {sustained.p90_ms:.1f} ms, p99 {sustained.p99_ms:.1f} ms"
            if sustained is not at_rate
            else ""
        )
    )
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
