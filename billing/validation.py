"""Checks of the identifiers printed on Chinese VAT invoices (the buyer's tax ID: customers.tax_ids)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

FAPIAO_NUMBER = re.compile(r"^(?:[0-9]{8}|[0-9]{20})$")
RED_LETTER_NUMBER = re.compile(r"^(?:[0-9]{16}|[0-9]{20})$")
TAX_CLASSIFICATION_CODE = re.compile(r"^[0-9]{19}$")


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
