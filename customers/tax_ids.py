"""Tax IDs: the unified social credit code (统一社会信用代码, GB 32100-2015) and its check character.

One implementation for every layer that reads a tax ID: the customer form and import (here) and the
VAT invoice's buyer (billing imports it from here).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015, the unified social credit code (统一社会信用代码): 18 characters from a 31-character
# alphabet (digits and capital letters without I, O, Z, S, V); the 18th is a check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_LENGTH = 18
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28


def uscc_check_character(first17: str) -> str:
    """The check character of the first 17 characters: 31 − (Σ value × 3^(i) mod 31) mod 31."""
    total = sum(USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """Is this a well-formed unified social credit code with the right check character?"""
    if len(code) != USCC_LENGTH or any(char not in USCC_ALPHABET for char in code):
        return False
    return uscc_check_character(code[:17]) == code[17]


def validate_tax_id(value: str) -> None:
    """A buyer's tax ID: an 18-character unified social credit code (GB 32100-2015), checked."""
    if not value:
        return
    if len(value) != USCC_LENGTH:
        raise ValidationError(_("A tax ID (unified social credit code) has 18 characters."), code="tax_id_length")
    if any(char not in USCC_ALPHABET for char in value):
        raise ValidationError(
            _("A tax ID uses only digits and capital letters other than I, O, Z, S and V."), code="tax_id_characters"
        )
    if not is_valid_uscc(value):
        raise ValidationError(_("This tax ID's check character is wrong: please check for a typo."), code="tax_id_checksum")


def validate_customer_tax_id(value: str, *, is_company: bool) -> None:
    """A customer's tax ID: a company's 18-character ID is a unified social credit code and must pass its
    check (a typo would reach its VAT invoices); other lengths stay allowed for foreign and older
    registration numbers, and a person's ID number is not a credit code."""
    if is_company and len(value) == USCC_LENGTH:
        validate_tax_id(value)
