"""Money arithmetic: Decimal only, rounded half-up to the cent at each line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round_money(value: Decimal) -> Decimal:
    """Round an amount to cents, half up (0.005 -> 0.01), as invoices in the trade are."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
