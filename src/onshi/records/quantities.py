"""How a dispensed quantity is written: as a pharmacist writes it on a 薬袋 or お薬手帳.

Whole amounts have no decimal point (28錠, not 28.0錠); fractions keep only the digits they have
(1.5g, 0.5錠, 0.25g), at most three decimals (the precision 調剤 quantities are recorded in, e.g.
0.125mg); large amounts are grouped by thousands (1,000mL). One function for every screen and
export that shows a quantity.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MAX_DECIMALS = 3
_STEP = Decimal(1).scaleb(-MAX_DECIMALS)


def format_quantity(value: float | int | Decimal | None, unit: str = "") -> str:
    """``28.0, "錠"`` → ``"28錠"``; ``1.5, "g"`` → ``"1.5g"``; ``None`` → ``"–"``."""
    if value is None:
        return "–"
    amount = Decimal(str(value)).quantize(_STEP, rounding=ROUND_HALF_UP).normalize()
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    text = f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")
    return f"{text}{unit}"
