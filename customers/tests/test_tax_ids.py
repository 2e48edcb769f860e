"""The tax ID's check (GB 32100-2015): one implementation, for customers and for the VAT invoice's buyer."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from customers.tax_ids import is_valid_uscc, uscc_check_character, validate_customer_tax_id, validate_tax_id

# Unified social credit codes published on companies' business licences.
REAL_CODES = ["91440300708461136T", "91110000100010433L", "911100007109288314", "91350100M000100Y43"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_published_tax_ids_pass_the_checksum(code):
    assert is_valid_uscc(code)
    validate_tax_id(code)


@pytest.mark.parametrize("code", REAL_CODES)
def test_one_changed_character_is_caught(code):
    for position in range(18):
        wrong = "0" if code[position] != "0" else "1"
        typo = code[:position] + wrong + code[position + 1 :]
        assert not is_valid_uscc(typo), typo


def test_swapped_neighbours_are_caught():
    code = "91440300708461136T"
    swapped = code[:10] + code[11] + code[10] + code[12:]
    assert swapped != code
    assert not is_valid_uscc(swapped)


def test_check_character_can_be_a_letter_or_zero():
    assert uscc_check_character("91110000100010433") == "L"
    # The remainder 0 maps to "0", not to the 31st character.
    first17 = next(f"9111000010001{n:04d}" for n in range(10000) if uscc_check_character(f"9111000010001{n:04d}") == "0")
    assert is_valid_uscc(first17 + "0")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("9144030070846113", "tax_id_length"),
        ("91440300708461136TX", "tax_id_length"),
        ("91440300708461136I", "tax_id_characters"),  # I is not in the alphabet
        ("91440300708461136t", "tax_id_characters"),  # lower case
        ("91440300708461136A", "tax_id_checksum"),
    ],
)
def test_bad_tax_ids_say_what_is_wrong(value, code):
    with pytest.raises(ValidationError) as refused:
        validate_tax_id(value)
    assert refused.value.code == code


def test_empty_tax_id_is_allowed_for_individuals():
    validate_tax_id("")


def test_only_a_companys_eighteen_characters_are_held_to_the_credit_code():
    with pytest.raises(ValidationError):
        validate_customer_tax_id("91440300708461136A", is_company=True)
    validate_customer_tax_id("11010519491231002X", is_company=False)  # a person's ID number
    validate_customer_tax_id("DE123456789", is_company=True)  # not 18 characters: a foreign number
