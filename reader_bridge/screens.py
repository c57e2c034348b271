"""The kiosk's screens as data: steps, the screen snapshot and the portal interface the flow
needs. No HTTP, no card I/O."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from reader_bridge.messages import Text
from reader_bridge.portal import Challenge, ConsentRules, DeviceStatus, SubmissionResult

CONSENT_KINDS = ("health_check", "drug", "clinical", "surgery")


class Step(enum.Enum):
    PLACE_CARD = "place_card"  # ①
    CHOOSE_METHOD = "choose_method"  # ②
    VISUAL_NOTICE = "visual_notice"  # ② in 目視 mode
    FACE = "face"  # ③
    PIN = "pin"  # ③
    PIN_LOCKED = "pin_locked"
    CONSENT = "consent"  # ④
    LIMIT = "limit"  # ⑤ (限度額)
    AWAITING_STAFF = "awaiting_staff"
    DONE = "done"  # ⑥
    REGISTER_INTRO = "register_intro"  # 利用登録: the consent (nothing typed)
    REGISTER_PIN = "register_pin"  # 利用登録 after face / 目視: the one PIN entry
    ERROR = "error"
    DEVICE_NOT_REGISTERED = "device_not_registered"


class Portal(Protocol):
    def device_status(self) -> DeviceStatus: ...

    def create_challenge(self) -> Challenge: ...

    def submit_verification(self, body: Mapping[str, Any]) -> SubmissionResult: ...

    def verification_status(self, verification_id: str) -> dict[str, Any]: ...

    def link_card(self, body: Mapping[str, Any]) -> dict[str, Any]: ...


class FlowError(ValueError):
    """An action that does not fit the current step (e.g. a stale form)."""


@dataclass(frozen=True)
class Screen:
    """What the kiosk shows now. ``notice`` / ``error`` are ``{"ja", "en"}`` texts."""

    step: Step = Step.PLACE_CARD
    lang: str = "ja"
    notice: Text | None = None
    error: Text | None = None
    instruction: Text | None = None
    tries_left: int | None = None
    mode: str = "unattended"
    rules: ConsentRules = field(default_factory=ConsentRules)
    result: dict[str, Any] | None = None
