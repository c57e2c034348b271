"""A large intake file is parsed in the second process of ``python -m onshi.batch.validate``
(the threshold lowered here): the rows, outcomes and counts are those of parsing in the
importing process; when the process cannot start, or dies part-way, the import parses the rest
itself from the first row not yet handed out."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from onshi.batch import validate
from onshi.clock import FrozenClock
from onshi.registration import jobs
from onshi.registration.models import JobStatus, RegistrationJob, RegistrationResult
from tests.integration.registration.registration_helpers import csv_bytes, import_bytes
from tests.integration.registration.test_intake import MIXED, insurer_number

__all__ = ["insurer_number"]

EXPECTED = {
    2: ("linked", "five_items.match"),
    3: ("linked_confirm", "five_items.variant"),
    4: ("held", "my_number.mismatch"),
    5: ("rejected", "registration.row.date_format"),
    6: ("rejected", "registration.member_not_found"),
    7: ("held", "five_items.mismatch"),
}
#: The real process, dying (SIGKILL) before it sends its second chunk.
DYING = """
import os, signal
from onshi.registration import validation
real = validation.RegistrationSpec.wire_chunks
def wire_chunks(self, pieces):
    for index, chunk in enumerate(real(self, pieces)):
        if index == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        yield chunk
validation.RegistrationSpec.wire_chunks = wire_chunks
from onshi.batch import validate
validate.main()
"""


class Starter:
    """Stands in for ``subprocess`` in :mod:`onshi.batch.validate`, counting the processes."""

    PIPE = subprocess.PIPE

    def __init__(self, command: list[str] | None = None, error: OSError | None = None) -> None:
        self.command, self.error, self.started = command, error, 0

    def Popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:  # noqa: N802
        if self.error is not None:
            raise self.error
        self.started += 1
        return subprocess.Popen(self.command or args, **kwargs)


def _results(db: Session, job_id: int) -> dict[int, tuple[str, str]]:
    rows = db.scalars(select(RegistrationResult).where(RegistrationResult.job_id == job_id))
    return {r.line: (r.outcome.value, r.reason_code) for r in rows}


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_the_process_gives_the_same_outcomes(  # noqa: PLR0917  (fixtures)
    db: Session, db_engine: Engine, clock: FrozenClock, insurer_number: str,
    monkeypatch: pytest.MonkeyPatch, encoding: str,
) -> None:  # fmt: skip
    starter = Starter()
    monkeypatch.setattr(jobs, "PIPELINE_MIN_ROWS", 1)
    monkeypatch.setattr(validate, "subprocess", starter)
    data = csv_bytes(MIXED, encoding=encoding)
    job_id = import_bytes(db_engine, clock, insurer_number, data, chunk_rows=2)
    assert starter.started == 1
    assert _results(db, job_id) == EXPECTED
    job = db.get(RegistrationJob, job_id)
    assert job is not None
    assert (job.status, job.processed_rows) == (JobStatus.DONE, 6)


@pytest.mark.parametrize(
    "make",
    [lambda: Starter(error=OSError("no process")),
     lambda: Starter(command=[sys.executable, "-c", DYING])],
    ids=["cannot_start", "dies"],
)  # fmt: skip
def test_the_import_parses_the_rest_itself(  # noqa: PLR0917  (fixtures)
    db: Session, db_engine: Engine, clock: FrozenClock, insurer_number: str,
    monkeypatch: pytest.MonkeyPatch, make: Callable[[], Starter],
) -> None:  # fmt: skip
    starter = make()
    monkeypatch.setattr(jobs, "PIPELINE_MIN_ROWS", 1)
    monkeypatch.setattr(validate, "subprocess", starter)
    job_id = import_bytes(db_engine, clock, insurer_number, csv_bytes(MIXED), chunk_rows=2)
    assert _results(db, job_id) == EXPECTED  # every row once, none lost or repeated
    assert starter.started == (0 if starter.error is not None else 1)
