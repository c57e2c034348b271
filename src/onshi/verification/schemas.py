"""Parsing of the device API request objects (docs/api/device-protocol.md) into plain data.

Shape errors raise :class:`VerificationError` ``verification.malformed`` (400) naming the
field; the consent choices are checked separately (``verification.bad_consents``), at their
place in the contract's order of checks.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from onshi.consent.models import ConsentKind
from onshi.consent.policies import PER_KIND_VIEWING
from onshi.settings import ConsentRules
from onshi.verification import errors
from onshi.verification.challenges import b64u_decode
from onshi.verification.errors import VerificationError
from onshi.verification.models import VerificationMethod

CardMethod = Literal["pin", "face", "visual"]
METHODS: dict[str, VerificationMethod] = {
    "pin": VerificationMethod.CARD_PIN,
    "face": VerificationMethod.CARD_FACE,
    "visual": VerificationMethod.CARD_VISUAL,
}
MAX_CERTIFICATE_BYTES = 4096
MAX_SIGNATURE_BYTES = 1024
PATIENT_NUMBER_MAX = 32


def body_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a request object (sorted keys, no spaces)."""
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _malformed(field: str) -> VerificationError:
    return VerificationError(errors.MALFORMED, field=field)


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _malformed(field)
    return value


def _text(body: Mapping[str, Any], field: str, *, optional: bool = False) -> str | None:
    value = body.get(field)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _malformed(field)
    return value


def _b64u(body: Mapping[str, Any], field: str, max_bytes: int) -> bytes:
    value = _text(body, field)
    try:
        raw = b64u_decode(value or "")
    except ValueError:
        raise _malformed(field) from None
    if not raw or len(raw) > max_bytes:
        raise _malformed(field)
    return raw


@dataclass(frozen=True, slots=True)
class FaceAttestation:
    matcher: str
    matched: bool
    score: float | None


@dataclass(frozen=True, slots=True)
class CardSubmission:
    challenge_id: str
    certificate: bytes
    method: CardMethod
    signature: bytes | None
    face: FaceAttestation | None
    consents: Any
    limit_info: Any
    institution_patient_number: str | None
    body_hash: str


def parse_submission(body: Any) -> CardSubmission:
    obj = _object(body, "body")
    challenge_id = _text(obj, "challenge_id") or ""
    certificate = _b64u(obj, "certificate", MAX_CERTIFICATE_BYTES)
    method = obj.get("method")
    if method not in METHODS:
        raise _malformed("method")
    proof = _object(obj.get("proof"), "proof")
    signature: bytes | None = None
    face: FaceAttestation | None = None
    if method == "pin":
        signature = _b64u(proof, "signature", MAX_SIGNATURE_BYTES)
    elif method == "face":
        raw_face = _object(proof.get("face"), "proof.face")
        matcher, matched, score = raw_face.get("matcher"), raw_face.get("matched"), None
        if not isinstance(matcher, str) or not matcher or not isinstance(matched, bool):
            raise _malformed("proof.face")
        raw_score = raw_face.get("score")
        if raw_score is not None:
            if isinstance(raw_score, bool) or not isinstance(raw_score, int | float):
                raise _malformed("proof.face.score")
            score = float(raw_score)
        face = FaceAttestation(matcher=matcher, matched=matched, score=score)
    elif proof:
        raise _malformed("proof")
    number = parse_patient_number(obj.get("institution_patient_number"))
    return CardSubmission(
        challenge_id=challenge_id,
        certificate=certificate,
        method=method,
        signature=signature,
        face=face,
        consents=obj.get("consents"),
        limit_info=obj.get("limit_info"),
        institution_patient_number=number,
        body_hash=body_hash(obj),
    )


def parse_consents(consents: Any, limit_info: Any, rules: ConsentRules) -> dict[ConsentKind, bool]:
    """The consent choices under ``rules``: exactly the four viewing kinds (or exactly
    ``comprehensive``), each a boolean; ``limit_info`` a boolean when the 限度額 step is on
    (ignored otherwise: always provided). Anything else is ``verification.bad_consents``."""
    expected = (ConsentKind.COMPREHENSIVE,) if rules.comprehensive_consent else PER_KIND_VIEWING
    if not isinstance(consents, dict) or set(consents) != {kind.value for kind in expected}:
        raise VerificationError(errors.BAD_CONSENTS, expected=",".join(k.value for k in expected))
    choices: dict[ConsentKind, bool] = {}
    for kind in expected:
        value = consents[kind.value]
        if not isinstance(value, bool):
            raise VerificationError(errors.BAD_CONSENTS, expected=kind.value)
        choices[kind] = value
    if rules.limit_consent_step:
        if not isinstance(limit_info, bool):
            raise VerificationError(errors.BAD_CONSENTS, expected="limit_info")
        choices[ConsentKind.LIMIT_INFO] = limit_info
    return choices


def parse_patient_number(value: Any) -> str | None:
    """照会番号: NFKC, surrounding spaces removed, 1–32 printable characters; '' or None → None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise VerificationError(errors.PATIENT_NUMBER_FORMAT, max=PATIENT_NUMBER_MAX)
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    if len(text) > PATIENT_NUMBER_MAX or not text.isprintable():
        raise VerificationError(errors.PATIENT_NUMBER_FORMAT, max=PATIENT_NUMBER_MAX)
    return text


def parse_birth_date(value: Any) -> date:
    """生年月日 as ``YYYY-MM-DD`` (the contract) or ``YYYYMMDD`` (the national XML)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if len(text) == 8 and text.isdigit():
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
        except ValueError:
            pass
    raise VerificationError(errors.BIRTH_DATE_FORMAT, field="birth_date")


@dataclass(frozen=True, slots=True)
class PersonIdentity:
    """What identifies a qualification: raw 保険者番号, 記号, 番号, 枝番, 生年月日."""

    insurer_number: str | None
    symbol: str | None
    number: str | None
    branch: str | None
    birth_date: Any


def parse_person_identity(value: Any, field: str = "person") -> PersonIdentity:
    obj = _object(value, field)
    for name in ("insurer_number", "symbol", "number", "branch"):
        if obj.get(name) is not None and not isinstance(obj.get(name), str):
            raise _malformed(f"{field}.{name}")
    return PersonIdentity(
        insurer_number=obj.get("insurer_number"),
        symbol=obj.get("symbol"),
        number=obj.get("number"),
        branch=obj.get("branch"),
        birth_date=obj.get("birth_date"),
    )


@dataclass(frozen=True, slots=True)
class CardLinkRequest:
    challenge_id: str
    certificate: bytes
    signature: bytes


def parse_card_link(body: Any) -> CardLinkRequest:
    """The PIN-proved certificate only. A ``person`` object (the typed 保険者番号 / 記号番号 /
    生年月日 of the old protocol) is refused: no typed number decides whom a card belongs to."""
    obj = _object(body, "body")
    if "person" in obj:
        raise VerificationError(errors.CARD_LINK_TYPED_IDENTITY)
    return CardLinkRequest(
        challenge_id=_text(obj, "challenge_id") or "",
        certificate=_b64u(obj, "certificate", MAX_CERTIFICATE_BYTES),
        signature=_b64u(obj, "signature", MAX_SIGNATURE_BYTES),
    )
