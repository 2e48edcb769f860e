"""The records every bank statement parser returns, and its one error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    """An amount with (at least) two decimals: 250 reads as 250.00; finer amounts are kept as given."""
    return value.quantize(CENT) if value.as_tuple().exponent > -2 else value


class BankFileError(Exception):
    """The file cannot be read as a bank statement; the message says why, for the user."""


@dataclass
class ParsedEntry:
    """One booked line of a statement; `amount` is signed: money in is positive, money out negative."""

    booking_date: date
    amount: Decimal
    value_date: date | None = None
    currency: str = ""
    bank_ref: str = ""  # the bank's own id of the transaction (AcctSvcrRef, //reference, 流水号)
    reference: str = ""  # the payer's or our reference (EndToEndId, reference for the account owner)
    counterparty_name: str = ""
    counterparty_account: str = ""
    memo: str = ""
    reversal: bool = False
    transaction_code: str = ""

    @property
    def is_credit(self) -> bool:
        return self.amount > 0


@dataclass
class ParsedStatement:
    """One statement of one account: balances may be missing (None) in files that do not carry them."""

    account: str = ""
    currency: str = ""
    statement_id: str = ""
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    period_start: date | None = None
    period_end: date | None = None
    entries: list[ParsedEntry] = field(default_factory=list)

    @property
    def movement(self) -> Decimal:
        return sum((entry.amount for entry in self.entries), ZERO)

    @property
    def balances_add_up(self) -> bool | None:
        """Opening + lines = closing; None when the file gives no balances to check."""
        if self.opening_balance is None or self.closing_balance is None:
            return None
        return self.opening_balance + self.movement == self.closing_balance

    def first_date(self) -> date | None:
        return self.period_start or min((e.booking_date for e in self.entries), default=None)

    def last_date(self) -> date | None:
        return self.period_end or max((e.booking_date for e in self.entries), default=None)


_ACCOUNT_NOISE = re.compile(r"[\s\-_.]")


def normalize_account(number: str) -> str:
    """An account number as compared: no spaces, dashes or dots, upper case (IBANs are printed in groups)."""
    return _ACCOUNT_NOISE.sub("", number or "").upper()
