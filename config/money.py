"""Money arithmetic: Decimal only, rounded half-up to the cent at each line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Room in database CHECKs that compare sums of money: half a cent either side is the same as equal
# for numeric columns with 2 places (PostgreSQL), and absorbs SQLite's floating point (`make run`),
# where 1234.56 + 160.49 need not equal 1395.05 exactly.
HALF_CENT = Decimal("0.005")


def equal_to_the_cent(field: str, expression) -> Q:
    """A CHECK condition: the money column `field` equals `expression` (a sum of columns) to the cent."""
    return Q(**{f"{field}__gte": expression - HALF_CENT}) & Q(**{f"{field}__lte": expression + HALF_CENT})


def decimal_from_db(value) -> Decimal:
    """A sum read by raw SQL, unrounded: PostgreSQL gives a Decimal (or NULL for no rows), SQLite an int or a
    float (its decimal columns hold floats), read through its shortest repr."""
    if value is None:
        return ZERO
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def money_from_db(value) -> Decimal:
    """A sum read by raw SQL, as money rounded to the cent."""
    return round_money(decimal_from_db(value))


def round_money(value: Decimal) -> Decimal:
    """Round an amount to cents, half up (0.005 -> 0.01), as invoices in the trade are."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
