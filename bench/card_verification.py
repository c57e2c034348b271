"""Card PIN verification over the real PC/SC path: ms per verification and APDUs (vpcd card).

One verification = connect, SELECT the JPKI AP, read the token and the user-authentication
certificate, VERIFY the PIN, COMPUTE DIGITAL SIGNATURE over a challenge, disconnect (reset) —
what the bridge does for a PIN verification. It runs against a private pcscd (socket
activation, loopback vpcd port) with the virtual card attached over TCP, for a fixed duration,
with TCP_QUICKACK re-armed (the default) and without it, and in process for comparison.

Run: ``.venv/bin/python -m bench.card_verification [--seconds S]``. Needs pcscd,
vsmartcard-vpcd and pyscard, like the ``pcsc`` tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reader_bridge.jpki import JpkiCard  # noqa: E402
from reader_bridge.readers.base import Reader  # noqa: E402
from reader_bridge.readers.inprocess import InProcessReader  # noqa: E402
from reader_bridge.virtual_card import VirtualJpkiCard  # noqa: E402
from reader_bridge.virtual_pki import VirtualCa  # noqa: E402
from reader_bridge.vpcd import VpcdCardLink  # noqa: E402
from tests.integration.reader_bridge.pcsc_harness import HarnessError, PcscdHarness  # noqa: E402

CHALLENGE = b"benchmark challenge"


def verify_once(reader: Reader, slot: str) -> int:
    with reader.connect(slot) as connection:
        jpki = JpkiCard(connection)
        jpki.read_identity()
        jpki.authenticate("1234", CHALLENGE)
        return jpki.counter.commands


def run(label: str, seconds: float, once: Callable[[], int]) -> float:
    once()  # warm up
    timings: list[float] = []
    apdus = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        apdus = once()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    median = statistics.median(timings)
    p90 = timings[int(len(timings) * 0.9)]
    print(
        f"{label:<34} {len(timings):>6} runs  {apdus} APDUs  median {median:7.2f} ms  "
        f"p90 {p90:7.2f} ms  ({median / apdus:.2f} ms/APDU)",
        flush=True,
    )
    return median


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    now = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    template = VirtualCa.generate(now).issue_card(now, pin="1234")

    def fresh() -> VirtualJpkiCard:
        return dataclasses.replace(template)

    in_process = InProcessReader(["bench"])
    in_process.insert(fresh(), "bench")
    base = run("in process", args.seconds, lambda: verify_once(in_process, "bench"))

    try:
        harness = PcscdHarness(Path(tempfile.mkdtemp(prefix="onshi-bench-pcscd-")))
        os.environ.update(harness.client_environment())
        harness.start()
    except HarnessError as exc:
        print(f"cannot measure: {exc}", file=sys.stderr)
        return 1
    from reader_bridge.readers.pcsc import PcscReader

    try:
        results = {}
        for quickack in (True, False):
            reader = PcscReader()
            slot = harness.slots[0]
            link = VpcdCardLink(fresh(), slot.port, quickack=quickack)
            link.insert()
            event = reader.wait_for_event(10)
            if event is None or event.reader != slot.name:
                print(f"card not seen on {slot.name}: {event}", file=sys.stderr)
                return 1
            label = f"PC/SC + vpcd, quickack={'on' if quickack else 'off'}"
            results[quickack] = run(label, args.seconds, partial(verify_once, reader, slot.name))
            link.close()
            while reader.wait_for_event(2) is not None:  # until pcscd saw the card leave
                pass
            reader.close()
        print(
            f"PC/SC vs in process: {results[True] / base:.1f}x; "
            f"without quickack: {results[False] / results[True]:.1f}x slower"
        )
    finally:
        harness.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
