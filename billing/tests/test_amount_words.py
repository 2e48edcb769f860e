"""The invoice total in Chinese capital numerals (大写金额)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.amount_words import amount_in_capitals


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零圆整"),
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("1", "壹圆整"),
        ("10", "壹拾圆整"),
        ("15", "壹拾伍圆整"),
        ("100", "壹佰圆整"),
        ("105", "壹佰零伍圆整"),
        ("1005", "壹仟零伍圆整"),
        ("1010", "壹仟零壹拾圆整"),
        ("1234.56", "壹仟贰佰叁拾肆圆伍角陆分"),
        ("113.50", "壹佰壹拾叁圆伍角"),
        ("10.05", "壹拾圆零伍分"),
        ("10000", "壹万圆整"),
        ("10001", "壹万零壹圆整"),
        ("110000", "壹拾壹万圆整"),
        ("1000500", "壹佰万零伍佰圆整"),
        ("1010000", "壹佰零壹万圆整"),
        ("20000001", "贰仟万零壹圆整"),
        ("100000000", "壹亿圆整"),
        ("100010000", "壹亿零壹万圆整"),
        ("105000000.07", "壹亿零伍佰万圆零柒分"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖圆玖角玖分"),
        ("-11.30", "负壹拾壹圆叁角"),
    ],
)
def test_amounts_in_capitals(amount, words):
    assert amount_in_capitals(Decimal(amount)) == words


def test_amount_is_rounded_half_up_to_the_cent_first():
    assert amount_in_capitals(Decimal("0.125")) == "壹角叁分"


def test_float_is_refused():
    with pytest.raises(TypeError):
        amount_in_capitals(1.5)
