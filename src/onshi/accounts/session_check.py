"""Is the session behind an open, long-lived response (a reception screen's live stream) still
the same sign-in? Read-only and cheap (one indexed row and the account), so a stream can ask
every few seconds.

A stream stops when the answer is no: signed out (or the session revoked), expired (absolute or
idle), the account disabled, or its role, institution or permissions changed since the stream
opened. The browser then reconnects through the guard, which sends it to the sign-in page.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import WebSession
from onshi.accounts.schemas import Principal
from onshi.accounts.services import SessionPolicy, _principal_for
from onshi.clock import Clock


def session_unchanged(
    db: Session, clock: Clock, policy: SessionPolicy, principal: Principal
) -> bool:
    now = clock.now()
    session = db.scalar(
        select(WebSession).where(
            WebSession.id == principal.session_id,
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
            WebSession.last_seen_at > now - timedelta(minutes=policy.idle_minutes),
        )
    )
    if session is None:
        return False
    return _principal_for(db, session) == principal
