"""The transparency log's signing key and origin, from the settings.

``ONSHI_TLOG_SIGNING_KEY`` holds the key in the signed-note format (see :mod:`onshi.audit.note`);
production refuses to start without it. Elsewhere a key is generated once into the data
directory (``tlog-signing-key``, mode 0600), like the other development secrets, named after the
public origin's host. The origin line of every checkpoint is ``ONSHI_TLOG_ORIGIN`` or, unset, the
key's name.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from onshi.audit.note import Signer, Verifier
from onshi.settings import Settings

KEY_FILE = "tlog-signing-key"


@dataclass(frozen=True)
class LogIdentity:
    origin: str
    signer: Signer

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier


def log_identity(settings: Settings) -> LogIdentity:
    if settings.tlog_signing_key:
        signer = Signer.decode(settings.tlog_signing_key)
    else:
        signer = _development_key(settings)
    return LogIdentity(origin=settings.tlog_origin or signer.name, signer=signer)


def _development_key(settings: Settings) -> Signer:
    path = settings.data_dir / KEY_FILE
    if path.exists():
        return Signer.decode(path.read_text())
    host = settings.public_origin.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    signer = Signer.generate(f"{host or 'localhost'}/transparency")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: two processes starting at once agree on one key.
    fd, temporary = tempfile.mkstemp(dir=settings.data_dir, prefix=".tlog-key-")
    try:
        os.write(fd, signer.encode().encode())
        os.close(fd)
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return Signer.decode(Path(path).read_text())
    finally:
        os.unlink(temporary)
    return signer
