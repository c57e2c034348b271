"""Insurer registration intake (P3): 1,000,000 member rows through ``onshi registrations
import`` — parsing, normalisation, the 5-item check against J-LIS, member records, links, audit
events, notices and results — rows/s and peak RSS of the importing process.

Run: ``.venv/bin/python -m bench.registration_intake [--rows N] [--dir DIR]
[--database-url URL]``. Without ``--database-url`` a fresh SQLite file is migrated in DIR. The
benchmark loads N SIMULATED J-LIS residents (bulk, not timed), writes an intake CSV of N rows —
80 % with the member's own 個人番号 (5 items exact), 8 % with notation variants (linked_confirm),
7 % without a number (J-LIS searched by birth date and sex), 3 % with a family member's number
(held), 2 % invalid (rejected) — and runs the command as its own process, timed; the peak RSS is
that process's (and any helper's) from ``getrusage``. Targets: ≥ 20,000 rows/s and ≤ 256 MB.
Record the figures, with the load average printed here, in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

TARGET_RATE = 20_000
TARGET_RSS_MIB = 256
KEY = "bench-registration-my-number-key-0123456789"
SECRET = "bench-registration-secret-key-0123456789ab"  # noqa: S105  (a throwaway database)
INSURER = "06139991"
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")
FAMILY_KANA = ("サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト",
               "ナカムラ", "コバヤシ", "カトウ")  # fmt: skip
GIVEN = ("太郎", "花子", "一郎", "美咲", "健", "陽子", "翔", "由美", "大輔", "恵")
GIVEN_KANA = ("タロウ", "ハナコ", "イチロウ", "ミサキ", "ケン", "ヨウコ", "ショウ", "ユミ",
              "ダイスケ", "メグミ")  # fmt: skip
TOWNS = ("霞が関", "丸の内", "大手町", "有楽町", "日本橋", "京橋", "八重洲", "銀座")


def _env(directory: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ONSHI_DATA_DIR": str(directory),
        "ONSHI_ENV": "development",
        "ONSHI_DATABASE_URL": url,
        "ONSHI_MY_NUMBER_KEY": KEY,
        "ONSHI_SECRET_KEY": SECRET,
    }


def _onshi() -> list[str]:
    return [str(Path(sys.executable).parent / "onshi")]


def _number(n: int) -> str:
    from onshi.identifiers import my_number_check_digit

    body = f"{n:011d}"
    return body + str(my_number_check_digit(body))


def _person(n: int) -> tuple[str, str, str, str, date, str, str]:
    rng = random.Random(n)
    family, given = rng.randrange(10), rng.randrange(10)
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
    sex = "1" if given % 2 == 0 else "2"
    block = f"{rng.randint(1, 6)}-{rng.randint(1, 30)}-{rng.randint(1, 25)}"
    block = f"{rng.randint(1, 6)}-{rng.randint(1, 30)}-{rng.randint(1, 25)}"
    address = f"東京都千代田区{TOWNS[rng.randrange(8)]}{block}"
    return FAMILY[family], GIVEN[given], FAMILY_KANA[family], GIVEN_KANA[given], birth, sex, address


def _prepare(url: str, rows: int) -> None:
    from sqlalchemy import func, insert, select

    from onshi.db.engine import make_engine
    from onshi.identifiers import my_number_hash
    from onshi.jlis.models import SimulatedJlisResident
    from onshi.qualification.models import Insurer, InsurerKind

    engine = make_engine(url)
    with engine.begin() as connection:
        if connection.scalar(select(func.count()).select_from(SimulatedJlisResident)):
            engine.dispose()
            return
        connection.execute(
            insert(Insurer).values(
                number=INSURER, name="ベンチマーク健康保険組合", kind=InsurerKind.KENPO_KUMIAI,
                prefecture_code="13", houbetsu="06", created_at=func.now(),
            )
        )  # fmt: skip
        batch = []
        for n in range(1, rows + 1):
            family, given, kf, kg, birth, sex, address = _person(n)
            batch.append({
                "my_number_hash": my_number_hash(KEY, _number(n)), "family_name": family,
                "given_name": given, "family_name_kana": kf, "given_name_kana": kg,
                "birth_date": birth, "sex": sex, "postal_code": None, "address": address,
                "prefecture_code": "13",
            })  # fmt: skip
            if len(batch) >= 20_000:
                connection.execute(insert(SimulatedJlisResident), batch)
                batch = []
        if batch:
            connection.execute(insert(SimulatedJlisResident), batch)
    engine.dispose()


def _write_csv(path: Path, rows: int) -> None:
    from onshi.registration.rows import COLUMNS

    rng = random.Random(20261201)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(COLUMNS) + "\r\n")
        for n in range(1, rows + 1):
            family, given, kf, kg, birth, sex, address = _person(n)
            number, kanji, kana = _number(n), f"{family} {given}", f"{kf} {kg}"
            roll = rng.random()
            if 0.80 <= roll < 0.88:
                kana = kana.translate(str.maketrans("アイウエオカキクケコサシスセソタチツテト",
                                                    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄ"))  # fmt: skip
                address = address.replace("-", "丁目", 1).replace("-", "番", 1) + "号"
            elif 0.88 <= roll < 0.95:
                number = ""
            elif 0.95 <= roll < 0.98:
                number = _number(n + 1 if n < rows else n - 1)  # a relative's number
            elif roll >= 0.98:
                birth = None  # type: ignore[assignment]
            day = birth.isoformat() if birth is not None else "1980/01/01"
            out.write(
                f"acquire,{n // 100000},{n},00,{kanji},{kana},{day},{'M' if sex == '1' else 'F'},"
                f"{address},{number},1,3,2026-11-01,,,2026-11-20\r\n"
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--database-url", default=None, help="an empty or migrated database")
    parser.add_argument(
        "--again", action="store_true", help="then import the same file again (all unchanged)"
    )
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="onshi-registration-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{directory / 'onshi.sqlite3'}"
    env = _env(directory, url)
    subprocess.run([*_onshi(), "migrate"], env=env, check=True, capture_output=True)
    started = time.monotonic()
    _prepare(url, args.rows)
    print(f"J-LIS residents ready: {time.monotonic() - started:.1f} s")
    csv_path = directory / f"registrations-{args.rows}.csv"
    if not csv_path.exists():
        _write_csv(csv_path, args.rows)
    print(f"input: {csv_path} ({csv_path.stat().st_size / 2**20:,.1f} MiB, {args.rows:,} rows)")
    code = _timed_import(env, csv_path, args.rows, "import")
    if code == 0 and args.again:
        code = _timed_import(env, csv_path, args.rows, "same file again")
    return code


def _rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its children (Linux /proc), MiB."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(_rss_mib(int(child)) for child in children)


def _watch(process: subprocess.Popen[str]) -> float:
    """The largest sum of the process tree's resident memory, sampled every 0.2 s."""
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, _rss_mib(process.pid))
        time.sleep(0.2)
    return peak


def _timed_import(env: dict[str, str], csv_path: Path, rows: int, label: str) -> int:
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(
        [*_onshi(), "registrations", "import", "--insurer", INSURER, str(csv_path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    together = _watch(process)
    stdout, stderr = process.communicate()
    run = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    seconds = time.monotonic() - started
    load_after = os.getloadavg()[0]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(run.stdout.strip())
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
        return 1
    cpu = (usage.ru_utime - before.ru_utime) + (usage.ru_stime - before.ru_stime)
    peak = usage.ru_maxrss / 1024  # KiB on Linux: the largest child so far
    print(f"{label}: {seconds:.1f} s, {rows / seconds:,.0f} rows/s (target ≥ {TARGET_RATE:,})")
    print(f"peak RSS: import process and its helper together {together:,.0f} MiB (sampled), "
          f"largest single process {peak:,.0f} MiB (target ≤ {TARGET_RSS_MIB})")  # fmt: skip
    print(
        f"CPU of the import and its helper: user {usage.ru_utime - before.ru_utime:.1f} s, "
        f"system {usage.ru_stime - before.ru_stime:.1f} s: {rows / cpu:,.0f} rows per CPU second"
    )
    print(f"load average (1 min): {load_before:.1f} → {load_after:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
