"""The kiosk's screens as data: steps, the screen snapshot, the portal interface the flow
needs, and the normalisation of the 利用登録 keypad fields. No HTTP, no card I/O."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from reader_bridge.messages import Text
from reader_bridge.portal import Challenge, ConsentRules, DeviceStatus, SubmissionResult

CONSENT_KINDS = ("health_check", "drug", "clinical", "surgery")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


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
    REGISTER_INTRO = "register_intro"
    REGISTER_FORM = "register_form"
    REGISTER_PIN = "register_pin"
    REGISTERED = "registered"
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
    registration: dict[str, str] = field(default_factory=dict)


def registration_fields(fields: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Normalise the 利用登録 keypad fields; returns them and the names of invalid ones."""

    def clean(name: str) -> str:
        return unicodedata.normalize("NFKC", str(fields.get(name, ""))).strip()

    person = {
        "insurer_number": clean("insurer_number"),
        "symbol": clean("symbol"),
        "number": clean("number"),
        "branch": clean("branch"),
        "birth_date": clean("birth_date").replace("-", "").replace("/", ""),
    }
    bad: list[str] = []
    if not (
        _DIGITS.fullmatch(person["insurer_number"]) and len(person["insurer_number"]) in (6, 8)
    ):
        bad.append("insurer_number")
    if len(person["symbol"]) > 20:
        bad.append("symbol")
    if not person["number"] or len(person["number"]) > 20:
        bad.append("number")
    if person["branch"] and not (
        _DIGITS.fullmatch(person["branch"]) and len(person["branch"]) == 2
    ):
        bad.append("branch")
    birth = person["birth_date"]
    if _DIGITS.fullmatch(birth) and len(birth) == 8:
        person["birth_date"] = f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"
    else:
        bad.append("birth_date")
    return person, bad
