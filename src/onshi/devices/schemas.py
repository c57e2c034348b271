"""Wire shapes of the device endpoints (docs/api/device-protocol.md), as msgspec Structs so
Litestar validates them and documents them in the OpenAPI schema."""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class PairRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /api/v1/devices/pair`` (unsigned)."""

    code: str
    public_key: str  # b64u of the raw 32-byte Ed25519 public key
    label: str


class InstitutionRef(msgspec.Struct):
    code: str  # 医療機関コード (10 digits)
    name: str


class PairResponse(msgspec.Struct):
    device_id: int
    institution: InstitutionRef


class ConsentRulesOut(msgspec.Struct):
    comprehensive_consent: bool
    limit_consent_step: bool
    consent_hours: int


class ViewerOffersOut(msgspec.Struct):
    """The data kinds the institution's readers offer (the viewing-consent questions asked)."""

    drug: bool
    health_check: bool
    clinical: bool
    surgery: bool


class ViewerSettingsOut(msgspec.Struct):
    offers: ViewerOffersOut
    drug_history_years: int  # 3 to 5
    pharmacy_health_check: bool


class DeviceMe(msgspec.Struct):
    """``GET /api/v1/devices/me``: the bridge reads its mode before each card flow."""

    device_id: int
    label: str
    mode: Literal["unattended", "visual"]
    institution: InstitutionRef
    consent_rules: ConsentRulesOut
    viewer: ViewerSettingsOut


class ErrorMessage(msgspec.Struct):
    ja: str
    en: str


class ErrorDetail(msgspec.Struct):
    code: str
    message: ErrorMessage
    params: dict[str, Any]


class ErrorBody(msgspec.Struct):
    """Every 4xx of the API: ``{"error": {"code", "message": {"ja", "en"}, "params"}}``."""

    error: ErrorDetail
