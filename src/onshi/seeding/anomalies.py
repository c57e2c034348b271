"""The documented data anomalies of a GENERATED nation and how often each occurs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: ``roll(kind, rate)``: does this person get anomaly ``kind``? (records it when it does)
AnomalyRoll = Callable[[str, float], bool]


@dataclass(frozen=True, slots=True)
class AnomalyRates:
    """Documented rates (docs/seeding.md). Every kind also appears at least once in any
    nation of 1,000+ people so the demo shows it."""

    no_my_number: float = 1.75 / 125  # ≈ 1.4 % of members without a linked My Number
    bullet_in_number: float = 0.00002  # 0.002 % of 被保険者番号 contain ●
    bullet_in_name: float = 0.0003  # names with a character the insurer could not store
    kana_variant: float = 0.004  # insurer kana spelled differently from the registry
    address_variant: float = 0.01  # 1-2-2 vs 1丁目2番地2号, full-width digits, kanji numerals
    unregistered_new_job: float = 0.002  # old lost, new notified but not yet registered
    five_item_failed: float = 0.0006  # registration that failed the 5-item check (held link)
    first_job_unregistered: float = 0.001  # a card holder whose first job is not registered yet
    welfare_household: float = 0.016  # 生活保護 (loss reason 02)
    limit_certificate: float = 0.03  # 限度額適用認定
    dialysis: float = 0.003  # 特定疾病 (人工透析)
    card_linked: float = 0.62  # 健康保険証利用登録 among people with a My Number


#: The documented rates, as every nation uses them.
DOCUMENTED_RATES = AnomalyRates()
