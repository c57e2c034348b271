"""Shared set-up of the registration tests: an insurer, SIMULATED J-LIS residents and intake
files written the way insurers write them."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from onshi.clock import Clock
from onshi.identifiers import my_number_check_digit, my_number_hash
from onshi.identity.models import Sex
from onshi.jlis.models import SimulatedJlisResident
from onshi.qualification.links import SYSTEM
from onshi.registration.jobs import check_file, create_job, insurer_ref, run_job, sha256_of
from onshi.registration.models import JobSource
from onshi.registration.rows import COLUMNS

KEY = "registration-test-my-number-key-0123456789"


def my_number(n: int) -> str:
    body = f"{n:011d}"
    return body + str(my_number_check_digit(body))


def resident(  # noqa: PLR0917
    db: Session,
    number: str,
    family: str,
    given: str,
    kana_family: str,
    kana_given: str,
    birth: date,
    sex: str,
    address: str,
    key: str = KEY,
) -> SimulatedJlisResident:
    record = SimulatedJlisResident(
        my_number_hash=my_number_hash(key, number),
        family_name=family,
        given_name=given,
        family_name_kana=kana_family,
        given_name_kana=kana_given,
        birth_date=birth,
        sex=Sex(sex),
        postal_code=None,
        address=address,
        prefecture_code="13",
    )
    db.add(record)
    db.flush()
    return record


TARO = my_number(10000000001)
HANAKO = my_number(10000000002)
NAMESAKE = my_number(10000000003)
ADDRESS = "東京都千代田区霞が関1-2-2"


def family(db: Session, key: str = KEY) -> None:
    """Taro, his mother Hanako at the same address, and another 山田太郎 born the same day."""
    resident(db, TARO, "山田", "太郎", "ヤマダ", "タロウ", date(1980, 4, 1), "1", ADDRESS, key)
    resident(db, HANAKO, "山田", "花子", "ヤマダ", "ハナコ", date(1955, 6, 7), "2", ADDRESS, key)
    resident(db, NAMESAKE, "山田", "太郎", "ヤマダ", "タロウ", date(1980, 4, 1), "1",
             "大阪府大阪市北区梅田3-1-1", key)  # fmt: skip


def row(**values: str) -> dict[str, str]:
    base = {
        "event": "acquire", "symbol": "100", "number": "1", "branch": "00",
        "kanji_name": "山田 太郎", "kana_name": "ヤマダ タロウ", "birth_date": "1980-04-01",
        "sex": "M", "address": ADDRESS, "my_number": TARO, "relationship": "1",
        "copayment": "3", "acquired_on": "2026-03-25", "lost_on": "", "loss_reason": "",
        "notified_on": "2026-03-27",
    }  # fmt: skip
    base.update(values)
    return base


def csv_bytes(rows: list[dict[str, str]], *, encoding: str = "utf-8") -> bytes:
    lines = [",".join(COLUMNS)] + [",".join(r[name] for name in COLUMNS) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def write(tmp: Path, rows: list[dict[str, str]], name: str = "members.csv") -> Path:
    path = tmp / name
    path.write_bytes(csv_bytes(rows))
    return path


def import_bytes(
    engine: Engine, clock: Clock, insurer_number: str, data: bytes, **kwargs: object
) -> int:
    source = io.BytesIO(data)
    encoding, total = check_file(source)
    with Session(engine) as db, db.begin():
        insurer = insurer_ref(db, insurer_number)
        job_id = create_job(
            db,
            clock,
            insurer,
            JobSource.CLI,
            filename="t.csv",
            sha256=sha256_of(source),
            encoding=encoding,
            total_rows=total,
        )
    run_job(
        engine,
        clock,
        job_id,
        source,
        my_number_key=KEY,
        actor=SYSTEM,
        **kwargs,  # type: ignore[arg-type]
    )
    return job_id
