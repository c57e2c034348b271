"""The background worker: claims a queued (or abandoned) inquiry with a lease, processes it,
and looks for the next. Runs as a thread in each app process (``Settings.batch_worker``) or as
its own process (``onshi batch-worker``). Any number of workers may run against one database:
the lease (a conditional UPDATE) gives each inquiry to one of them, and an inquiry whose worker
died is taken over once its lease has expired (:data:`onshi.batch.processing.LEASE`)."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from typing import cast

from sqlalchemy import Engine, Table, func, or_, select, update
from sqlalchemy.exc import OperationalError

from onshi.batch.models import BatchInquiry, BatchStatus
from onshi.batch.processing import LEASE, LeaseLostError, StopRequestedError, fail, process_inquiry
from onshi.clock import Clock

log = logging.getLogger("onshi.batch")
_inquiries = cast(Table, BatchInquiry.__table__)


def new_owner() -> str:
    return f"{os.getpid()}-{secrets.token_hex(6)}"


class BatchWorker:
    def __init__(
        self, engine: Engine, clock: Clock, *, owner: str | None = None, poll_seconds: float = 1.0
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.owner = owner or new_owner()
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def claim(self) -> int | None:
        """Take the oldest inquiry that is queued, or running with an expired lease."""
        now = self.clock.now()
        claimable = (
            _inquiries.c.status.in_([BatchStatus.QUEUED, BatchStatus.RUNNING]),
            or_(_inquiries.c.lease_expires_at.is_(None), _inquiries.c.lease_expires_at < now),
        )
        with self.engine.connect() as connection:
            candidates = connection.execute(
                select(_inquiries.c.id).where(*claimable).order_by(_inquiries.c.id).limit(5)
            ).scalars()
            for inquiry_id in list(candidates):
                taken = connection.execute(
                    update(_inquiries)
                    .where(_inquiries.c.id == inquiry_id, *claimable)
                    .values(
                        status=BatchStatus.RUNNING,
                        lease_owner=self.owner,
                        lease_expires_at=now + LEASE,
                        started_at=func.coalesce(_inquiries.c.started_at, now),
                    )
                )
                connection.commit()
                if taken.rowcount == 1:
                    return int(inquiry_id)
        return None

    def run_once(self) -> int | None:
        """Claim one inquiry and process it to the end; its id, or None when idle."""
        inquiry_id = self.claim()
        if inquiry_id is None:
            return None
        with self.engine.connect() as connection:
            try:
                process_inquiry(
                    connection, inquiry_id, self.clock, owner=self.owner, stop=self._stop.is_set
                )
            except StopRequestedError:
                connection.rollback()
                self._release(inquiry_id)
            except LeaseLostError:
                connection.rollback()
                log.warning("batch inquiry %s: lease lost to another worker", inquiry_id)
            except OperationalError:
                connection.rollback()
                log.exception("batch inquiry %s: database error; will be resumed", inquiry_id)
                self._release(inquiry_id)
            except Exception:
                connection.rollback()
                log.exception("batch inquiry %s failed", inquiry_id)
                fail(connection, inquiry_id, self.clock.now(), "batch.failed.internal")
                connection.commit()
        return inquiry_id

    def _release(self, inquiry_id: int) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(_inquiries)
                .where(_inquiries.c.id == inquiry_id, _inquiries.c.lease_owner == self.owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    def run_until_idle(self) -> int:
        """Process everything claimable now; the number of inquiries processed."""
        count = 0
        while self.run_once() is not None:
            count += 1
        return count

    # --- background thread -------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="onshi-batch", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once() is not None
            except Exception:
                log.exception("batch worker: claim failed")
                worked = False
            if not worked:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
