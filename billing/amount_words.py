"""The amount in Chinese capital numerals (大写金额), as printed beside the figures on an invoice.

Rules of the People's Bank for writing amounts: capital digits 零壹贰叁肆伍陆柒捌玖 with the units
拾佰仟 and the sections 万 and 亿; a run of zeros inside the number is written as one 零, zeros at
the end of a section are not written; an amount that ends at 圆 is followed by 整, one that ends at
角 is not; 零 stands between 圆 and 分 when the 角 is zero.
"""

from __future__ import annotations

from decimal import Decimal

from config.money import round_money

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ["", "拾", "佰", "仟"]
SECTIONS = ["", "万", "亿", "万亿"]
MAX_AMOUNT = Decimal("9999999999999999.99")


def _integer_in_capitals(number: int) -> str:
    digits = str(number)
    count = len(digits)
    words = []
    pending_zero = False
    for index, char in enumerate(digits):
        position = count - 1 - index
        digit = int(char)
        if digit == 0:
            pending_zero = True
        else:
            if pending_zero and words:
                words.append(DIGITS[0])
            pending_zero = False
            words.append(DIGITS[digit] + UNITS[position % 4])
        if position % 4 == 0 and position > 0 and int(digits[max(0, index - 3) : index + 1]):
            words.append(SECTIONS[position // 4])
    return "".join(words)


def amount_in_capitals(amount: Decimal) -> str:
    """1234.56 → 壹仟贰佰叁拾肆圆伍角陆分; 100 → 壹佰圆整; 0 → 零圆整; negative amounts start with 负."""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    amount = round_money(Decimal(amount))
    if abs(amount) > MAX_AMOUNT:
        raise ValueError("amount too large to write in capitals")
    sign = "负" if amount < 0 else ""
    cents = int(abs(amount) * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    words = _integer_in_capitals(yuan) + "圆" if yuan else ""
    if not jiao and not fen:
        return sign + (words or "零圆") + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif yuan:
        words += DIGITS[0]
    if fen:
        words += DIGITS[fen] + "分"
    return sign + words
