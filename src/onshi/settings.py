"""One frozen settings object, built from the environment (``Settings.from_env``) or by tests.

Bad values fail at start-up with a message naming the variable; nothing is read at import time.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from onshi.files import private_directory, private_file

Environment = Literal["development", "test", "production"]
_ENVIRONMENTS: tuple[Environment, ...] = ("development", "test", "production")
_MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """A configuration value is missing or malformed."""


_LOOPBACK_IPS = frozenset({"127.0.0.1", "::1"})


def canonical_public_origin(origin: str, environment: str) -> str:
    """The one origin every printed link, staff URL and passkey uses.

    Outside production a loopback IP origin (the development default ``http://127.0.0.1:8000``)
    becomes ``localhost`` on the same port: browsers refuse an IP address as a WebAuthn relying
    party, ``localhost`` reaches the same server, and a browser treats the two as different sites
    (cookies, passkeys), so the app names only one of them. The trailing slash is dropped."""
    from urllib.parse import urlsplit

    trimmed = origin.rstrip("/")
    try:
        parts = urlsplit(trimmed)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return trimmed
    if environment != "production" and hostname in _LOOPBACK_IPS:
        return f"{parts.scheme}://localhost" + (f":{port}" if port else "")
    return trimmed


@dataclass(frozen=True)
class ConsentRules:
    """Reader consent flow. The seed documents' flow is the default; the 2024-10 rules replace
    the per-kind questions with one 包括同意 and drop the 限度額 step (always provided)."""

    comprehensive_consent: bool = False
    limit_consent_step: bool = True
    consent_hours: int = 24


@dataclass(frozen=True)
class CertificateRules:
    grace_months: int = 3
    expiry_warning_months: int = 3


MAX_CLOCK_OFFSET_SECONDS = 366 * 86400


@dataclass(frozen=True)
class Settings:
    environment: Environment = "development"
    database_url: str = "sqlite:///var/onshi.sqlite3"
    data_dir: Path = Path("var")
    secret_key: str = field(default="", repr=False)
    my_number_key: str = field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    public_origin: str = "http://localhost:8000"  # see canonical_public_origin
    secure_cookies: bool = True
    jpki_trust_anchors: tuple[Path, ...] = ()
    jpki_crls: tuple[Path, ...] = ()
    # Seconds between looks at the trust anchor and CRL files (reloaded when they change).
    jpki_reload_seconds: int = 30
    consent: ConsentRules = ConsentRules()
    certificates: CertificateRules = CertificateRules()
    sign_in_attempts_per_window: int = 5
    sign_in_window_seconds: int = 300
    session_hours: int = 8
    session_idle_minutes: int = 30
    # 一括照会: run the batch worker inside each app process (off when `onshi batch-worker`
    # runs on its own).
    batch_worker: bool = True
    # Transparency log (onshi.audit): the checkpoint signing key (signed-note format
    # PRIVATE+KEY+<name>+<id>+<key>; required in production, generated into the data directory
    # otherwise), the log's origin line (default: the public origin's host + "/transparency"),
    # the file every checkpoint is appended to for witnesses, whether this process runs an
    # integrator (one is elected per deployment) and how often it looks for new entries.
    tlog_signing_key: str = field(default="", repr=False)
    tlog_origin: str = ""
    checkpoint_export: Path | None = None
    tlog_integrator: bool = True
    tlog_interval_ms: int = 200
    # uvicorn's access log (one line per request on stderr). The TLS-terminating proxy in front
    # usually keeps its own; off, a worker saves the formatting and the write of every line.
    access_log: bool = True
    # Longest wait for the database (a lock, a connection, the pool) before a request answers
    # 503 service.unavailable instead of hanging (src/onshi/db/engine.py).
    db_timeout_seconds: int = 5
    # Addresses or networks of the reverse proxies (TLS terminators) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed (src/onshi/web/proxies.py); none by default.
    trusted_proxies: tuple[str, ...] = ()
    # Development and tests only: the server's clock runs this many seconds ahead of the
    # system's (e2e tests let a consent's 24 hours pass). Refused in production.
    clock_offset_seconds: int = 0

    def __post_init__(self) -> None:
        if self.environment not in _ENVIRONMENTS:
            raise SettingsError(
                f"ONSHI_ENV must be one of {', '.join(_ENVIRONMENTS)}, not {self.environment!r}"
            )
        # One public origin everywhere (frozen: set once, here).
        object.__setattr__(
            self, "public_origin", canonical_public_origin(self.public_origin, self.environment)
        )
        for name in ("secret_key", "my_number_key"):
            value = getattr(self, name)
            if len(value) < _MIN_SECRET_LENGTH:
                raise SettingsError(
                    f"ONSHI_{name.upper()} must be at least {_MIN_SECRET_LENGTH} characters"
                )
        if self.secret_key == self.my_number_key:
            raise SettingsError("ONSHI_SECRET_KEY and ONSHI_MY_NUMBER_KEY must differ")
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise SettingsError("ONSHI_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"ONSHI_PORT must be 1–65535, not {self.port}")
        if not 1 <= self.consent.consent_hours <= 24 * 31:
            raise SettingsError("ONSHI_CONSENT_HOURS must be between 1 and 744")
        if not 1 <= self.session_idle_minutes <= self.session_hours * 60:
            raise SettingsError(
                "ONSHI_SESSION_IDLE_MINUTES must be between 1 and the session length in minutes"
            )
        if self.environment == "production" and not self.secure_cookies:
            raise SettingsError("ONSHI_SECURE_COOKIES cannot be off in production")
        if not 1 <= self.jpki_reload_seconds <= 86400:
            raise SettingsError("ONSHI_JPKI_RELOAD_SECONDS must be between 1 and 86400")
        if self.clock_offset_seconds and self.environment == "production":
            raise SettingsError("ONSHI_CLOCK_OFFSET_SECONDS cannot be set in production")
        if abs(self.clock_offset_seconds) > MAX_CLOCK_OFFSET_SECONDS:
            raise SettingsError("ONSHI_CLOCK_OFFSET_SECONDS must be within ±366 days")
        if not 10 <= self.tlog_interval_ms <= 60000:
            raise SettingsError("ONSHI_TLOG_INTERVAL_MS must be between 10 and 60000")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(
                    f"ONSHI_TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
                ) from None
        if self.environment == "production":
            self._check_production_transport()
        if not 1 <= self.db_timeout_seconds <= 60:
            raise SettingsError("ONSHI_DB_TIMEOUT_SECONDS must be between 1 and 60")
        if self.environment == "production" and not self.tlog_signing_key:
            raise SettingsError("ONSHI_TLOG_SIGNING_KEY is required in production")
        for path in (*self.jpki_trust_anchors, *self.jpki_crls):
            if not path.is_file():
                raise SettingsError(f"JPKI file not found: {path}")

    def _check_production_transport(self) -> None:
        """Production: browsers reach the portal over TLS only. Onshi itself serves plain HTTP,
        so TLS is terminated by a reverse proxy, which must be trusted (otherwise every client
        would share the proxy's address in the per-address limits, and the scheme is unknown)."""
        if not self.uses_https:
            raise SettingsError(
                "ONSHI_PUBLIC_ORIGIN must be an https:// origin in production "
                f"(not {self.public_origin!r}): terminate TLS at a reverse proxy listed in "
                "ONSHI_TRUSTED_PROXIES"
            )
        if not self.trusted_proxies:
            raise SettingsError(
                "ONSHI_TRUSTED_PROXIES must name the TLS-terminating reverse proxy in "
                "production (Onshi serves plain HTTP behind it)"
            )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_https(self) -> bool:
        return self.public_origin.startswith("https://")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        environment = env.get("ONSHI_ENV", "development")
        data_dir = Path(env.get("ONSHI_DATA_DIR", "var"))
        secret_key = env.get("ONSHI_SECRET_KEY", "")
        my_number_key = env.get("ONSHI_MY_NUMBER_KEY", "")
        if environment == "development" and not (secret_key and my_number_key):
            generated = _development_secrets(data_dir)
            secret_key = secret_key or generated["secret_key"]
            my_number_key = my_number_key or generated["my_number_key"]
        host = env.get("ONSHI_HOST", "127.0.0.1")
        port = _int(env, "ONSHI_PORT", 8000)
        return cls(
            environment=environment,  # type: ignore[arg-type]
            database_url=normalise_database_url(
                env.get("ONSHI_DATABASE_URL", f"sqlite:///{data_dir / 'onshi.sqlite3'}")
            ),
            data_dir=data_dir,
            secret_key=secret_key,
            my_number_key=my_number_key,
            host=host,
            port=port,
            public_origin=env.get("ONSHI_PUBLIC_ORIGIN", f"http://{host}:{port}"),
            secure_cookies=_bool(env, "ONSHI_SECURE_COOKIES", True),
            jpki_trust_anchors=_paths(env, "ONSHI_JPKI_TRUST_ANCHORS"),
            jpki_crls=_paths(env, "ONSHI_JPKI_CRLS"),
            jpki_reload_seconds=_int(env, "ONSHI_JPKI_RELOAD_SECONDS", 30),
            consent=ConsentRules(
                comprehensive_consent=_bool(env, "ONSHI_COMPREHENSIVE_CONSENT", False),
                limit_consent_step=_bool(env, "ONSHI_LIMIT_CONSENT_STEP", True),
                consent_hours=_int(env, "ONSHI_CONSENT_HOURS", 24),
            ),
            certificates=CertificateRules(
                grace_months=_int(env, "ONSHI_CERT_GRACE_MONTHS", 3),
                expiry_warning_months=_int(env, "ONSHI_CERT_WARNING_MONTHS", 3),
            ),
            sign_in_attempts_per_window=_int(env, "ONSHI_SIGN_IN_ATTEMPTS", 5),
            sign_in_window_seconds=_int(env, "ONSHI_SIGN_IN_WINDOW_SECONDS", 300),
            session_hours=_int(env, "ONSHI_SESSION_HOURS", 8),
            session_idle_minutes=_int(env, "ONSHI_SESSION_IDLE_MINUTES", 30),
            batch_worker=_bool(env, "ONSHI_BATCH_WORKER", True),
            tlog_signing_key=env.get("ONSHI_TLOG_SIGNING_KEY", ""),
            tlog_origin=env.get("ONSHI_TLOG_ORIGIN", ""),
            checkpoint_export=(
                Path(env["ONSHI_CHECKPOINT_EXPORT"]) if env.get("ONSHI_CHECKPOINT_EXPORT") else None
            ),
            tlog_integrator=_bool(env, "ONSHI_TLOG_INTEGRATOR", True),
            tlog_interval_ms=_int(env, "ONSHI_TLOG_INTERVAL_MS", 200),
            access_log=_bool(env, "ONSHI_ACCESS_LOG", True),
            db_timeout_seconds=_int(env, "ONSHI_DB_TIMEOUT_SECONDS", 5),
            trusted_proxies=tuple(
                part for part in env.get("ONSHI_TRUSTED_PROXIES", "").replace(",", " ").split()
            ),
            clock_offset_seconds=_int(env, "ONSHI_CLOCK_OFFSET_SECONDS", 0),
        )


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _development_secrets(data_dir: Path) -> dict[str, str]:
    """Development only: generate secrets once and keep them in the data directory."""
    path = data_dir / "development-secrets.json"
    if path.exists():
        private_directory(data_dir)
        private_file(path)
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    private_directory(data_dir)
    generated = {
        "secret_key": secrets.token_urlsafe(48),
        "my_number_key": secrets.token_urlsafe(48),
    }
    private_file(path)  # 0600 before the secrets are in it
    path.write_text(json.dumps(generated))
    return generated


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from None


def _paths(env: Mapping[str, str], name: str) -> tuple[Path, ...]:
    raw = env.get(name, "")
    return tuple(Path(part) for part in raw.split(os.pathsep) if part.strip())
