"""``onshi purge-device-nonces``: delete expired ``jti`` records of signed device requests.

Each signed request already purges its own device's expired records about once in
``SignaturePolicy.purge_one_in`` requests, so the table stays small while devices are busy; rows
of a device that goes quiet (unpaired, switched off, replaced) stay until this command runs.
Operators schedule it (cron or a systemd timer, e.g. hourly); it is safe to run at any time and
from several hosts at once, and a live record (younger than 5 minutes) is never touched.
"""

from __future__ import annotations

import argparse

from onshi.clock import Clock, SystemClock
from onshi.settings import Settings


def purge_device_nonces(settings: Settings, clock: Clock) -> int:
    """Delete every expired nonce in one transaction of its own; returns how many went."""
    from onshi.db.engine import make_engine, make_session_factory
    from onshi.devices.signing import purge_expired_nonces

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db, db.begin():
            return purge_expired_nonces(db, clock)
    finally:
        engine.dispose()


def purge_device_nonces_command(_args: argparse.Namespace, settings: Settings) -> int:
    removed = purge_device_nonces(settings, SystemClock())
    print(f"purged {removed} expired device request nonce{'s' if removed != 1 else ''}")
    return 0
