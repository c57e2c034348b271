"""Uploaded intake files: checked and stored with their job in the request's transaction, then
processed by a background thread (:func:`start_runner`) so the page can show progress live.

The stored file lets a job whose process died be resumed: uploading the same file again finds
the unfinished job and starts a runner for it, which copies the stored pieces into a temporary
file — on disk, so memory stays flat — and continues after the last committed chunk.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from typing import BinaryIO, Final, cast

from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import Session

from onshi.clock import Clock
from onshi.qualification import links
from onshi.registration.intake import InsurerRef
from onshi.registration.jobs import (
    check_file,
    create_job,
    fail_job,
    run_job,
    sha256_of,
    unfinished_job,
)
from onshi.registration.models import JobSource, RegistrationJob, RegistrationJobInput

PIECE: Final = 1 << 20
log = logging.getLogger("onshi.registration")
_INPUTS: Final = cast(Table, RegistrationJobInput.__table__)
_JOBS: Final = cast(Table, RegistrationJob.__table__)


def submit_file(
    db: Session,
    clock: Clock,
    insurer: InsurerRef,
    source: BinaryIO,
    *,
    filename: str | None,
    job_source: JobSource = JobSource.UPLOAD,
    staff_id: int | None = None,
    key_id: int | None = None,
) -> int:
    """Check the file (``RegistrationFileError`` if it cannot be processed: nothing written),
    store it and create its job; an unfinished job of the same file is resumed instead."""
    encoding, total = check_file(source)
    digest = sha256_of(source)
    existing = unfinished_job(db, insurer.id, digest)
    if existing is not None and db.scalar(
        select(_INPUTS.c.id).where(_INPUTS.c.job_id == existing).limit(1)
    ):
        return existing
    job_id = create_job(
        db, clock, insurer, job_source, filename=filename, sha256=digest, encoding=encoding,
        total_rows=total, staff_id=staff_id, key_id=key_id,
    )  # fmt: skip
    source.seek(0)
    seq = 0
    while piece := source.read(PIECE):
        db.execute(_INPUTS.insert().values(job_id=job_id, seq=seq, content=piece))
        seq += 1
    db.flush()
    return job_id


def _stored(engine: Engine, job_id: int, target: BinaryIO) -> bool:
    with engine.connect() as connection:
        seq, found = 0, False
        while True:
            content = connection.execute(
                select(_INPUTS.c.content).where(_INPUTS.c.job_id == job_id, _INPUTS.c.seq == seq)
            ).scalar()
            if content is None:
                return found
            target.write(bytes(content))
            found, seq = True, seq + 1


def run_stored(
    engine: Engine, clock: Clock, job_id: int, *, my_number_key: str, actor: links.Actor
) -> None:
    """Process a stored job to its end (waiting briefly for the uploading transaction)."""
    with tempfile.TemporaryFile() as spool:
        for _ in range(50):
            if _stored(engine, job_id, spool):
                break
            time.sleep(0.1)
        else:
            fail_job(engine, clock, job_id, "registration.failed.no_input")
            return
        try:
            run_job(engine, clock, job_id, spool, my_number_key=my_number_key, actor=actor)
        except Exception:
            log.exception("registration job %s failed", job_id)
            fail_job(engine, clock, job_id, "registration.failed.internal")


def start_runner(
    engine: Engine, clock: Clock, job_id: int, *, my_number_key: str, actor: links.Actor
) -> threading.Thread:
    thread = threading.Thread(
        target=run_stored,
        args=(engine, clock, job_id),
        kwargs={"my_number_key": my_number_key, "actor": actor},
        name=f"onshi-registration-{job_id}",
        daemon=True,
    )
    thread.start()
    return thread
