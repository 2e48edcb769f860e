"""The identifiers printed on a VAT invoice: fapiao and red-letter numbers, tax classification codes
(the tax ID is checked in customers.tax_ids)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from billing.validation import (
    validate_fapiao_number,
    validate_red_letter_number,
    validate_tax_classification_code,
)


@pytest.mark.parametrize("value", ["12345678", "24312000000000123456"])
def test_fapiao_number_eight_or_twenty_digits(value):
    validate_fapiao_number(value)


@pytest.mark.parametrize("value", ["1234567", "123456789", "2431200000000012345", "243120000000001234567", "1234567A"])
def test_fapiao_number_other_lengths_refused(value):
    with pytest.raises(ValidationError):
        validate_fapiao_number(value)


def test_red_letter_number_sixteen_or_twenty_digits():
    validate_red_letter_number("4403012345678901")
    validate_red_letter_number("44030123456789012345")
    with pytest.raises(ValidationError):
        validate_red_letter_number("440301234567")


def test_tax_classification_code_has_nineteen_digits():
    validate_tax_classification_code("1090511990000000000")
    with pytest.raises(ValidationError):
        validate_tax_classification_code("10905119900")
