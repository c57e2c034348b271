"""The bridge's configuration file (TOML)::

portal_url = "https://onshi.example.jp"    # where the portal runs (pairing stores it too)
state_dir = "/var/lib/reader-bridge"       # device key (0600) and pairing record
kiosk_port = 8765                           # the kiosk listens on 127.0.0.1 only
reader_filter = "SONY"                      # use only readers whose name contains this
request_timeout = 10.0                      # seconds per portal request
retry_attempts = 4                          # per portal request (network failure or 5xx)
visual_poll_seconds = 2.0                   # 目視: how often to ask whether staff decided
log_level = "INFO"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = (
    Path(os.environ.get("XDG_STATE_HOME", str(Path.home() / ".local" / "state"))) / "reader-bridge"
)


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class BridgeConfig:
    portal_url: str | None = None
    state_dir: Path = DEFAULT_STATE_DIR
    kiosk_port: int = 8765
    reader_filter: str | None = None
    request_timeout: float = 10.0
    retry_attempts: int = 4
    visual_poll_seconds: float = 2.0
    log_level: str = "INFO"


def load_config(path: Path | None) -> BridgeConfig:
    if path is None:
        return BridgeConfig()
    try:
        raw: dict[str, Any] = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    known = {f.name for f in fields(BridgeConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    try:
        if "portal_url" in raw:
            values["portal_url"] = str(raw["portal_url"])
        if "state_dir" in raw:
            values["state_dir"] = (Path(path).parent / str(raw["state_dir"])).resolve()
        if "kiosk_port" in raw:
            values["kiosk_port"] = int(raw["kiosk_port"])
        if "reader_filter" in raw:
            values["reader_filter"] = str(raw["reader_filter"]) or None
        for name in ("request_timeout", "visual_poll_seconds"):
            if name in raw:
                values[name] = float(raw[name])
        if "retry_attempts" in raw:
            values["retry_attempts"] = max(1, int(raw["retry_attempts"]))
        if "log_level" in raw:
            values["log_level"] = str(raw["log_level"]).upper()
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not 0 <= values.get("kiosk_port", 8765) <= 65535:
        raise ConfigError(f"{path}: kiosk_port out of range")
    return BridgeConfig(**values)
