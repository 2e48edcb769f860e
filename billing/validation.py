"""Checks of the identifiers printed on Chinese VAT invoices."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015, the unified social credit code (统一社会信用代码): 18 characters from a 31-character
# alphabet (digits and capital letters without I, O, Z, S, V); the 18th is a check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28

FAPIAO_NUMBER = re.compile(r"^(?:[0-9]{8}|[0-9]{20})$")
RED_LETTER_NUMBER = re.compile(r"^(?:[0-9]{16}|[0-9]{20})$")
TAX_CLASSIFICATION_CODE = re.compile(r"^[0-9]{19}$")


def uscc_check_character(first17: str) -> str:
    """The check character of the first 17 characters: 31 − (Σ value × 3^(i) mod 31) mod 31."""
    total = sum(USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """Is this a well-formed unified social credit code with the right check character?"""
    if len(code) != 18 or any(char not in USCC_ALPHABET for char in code):
        return False
    return uscc_check_character(code[:17]) == code[17]


def validate_tax_id(value: str) -> None:
    """A buyer's tax ID: an 18-character unified social credit code (GB 32100-2015), checked."""
    if not value:
        return
    if len(value) != 18:
        raise ValidationError(_("A tax ID (unified social credit code) has 18 characters."), code="tax_id_length")
    if any(char not in USCC_ALPHABET for char in value):
        raise ValidationError(
            _("A tax ID uses only digits and capital letters other than I, O, Z, S and V."), code="tax_id_characters"
        )
    if not is_valid_uscc(value):
        raise ValidationError(_("This tax ID's check character is wrong: please check for a typo."), code="tax_id_checksum")


def validate_fapiao_number(value: str) -> None:
    """8 digits (a legacy fapiao) or 20 digits (a fully digital fapiao)."""
    if value and not FAPIAO_NUMBER.match(value):
        raise ValidationError(_("A fapiao number has 8 digits (legacy) or 20 digits (fully digital)."), code="fapiao_number")


def validate_red_letter_number(value: str) -> None:
    """The red-letter confirmation number: 16 digits (information sheet) or 20 digits (fully digital)."""
    if value and not RED_LETTER_NUMBER.match(value):
        raise ValidationError(_("A red-letter confirmation number has 16 or 20 digits."), code="red_letter_number")


def validate_tax_classification_code(value: str) -> None:
    """The tax classification code (税收分类编码) has 19 digits."""
    if value and not TAX_CLASSIFICATION_CODE.match(value):
        raise ValidationError(_("A tax classification code has 19 digits."), code="tax_classification_code")
