"""Column mappings of bank CSV/XLSX exports: which header holds what.

A mapping names, for each field, the headers it may appear under (any one of them). The built-in
ones follow the column names of the big banks' corporate online-banking exports; a user defines
their own on the mappings page (billing.bank.models.BankFileMapping) for any other bank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

# Fields a mapping may name; `memo` joins every column it names.
MAPPING_FIELDS = (
    "booking_date",
    "value_date",
    "amount",
    "credit",
    "debit",
    "direction",
    "counterparty_name",
    "counterparty_account",
    "payer_name",
    "payer_account",
    "payee_name",
    "payee_account",
    "memo",
    "bank_ref",
    "balance",
    "currency",
    "account",
)
# What a direction column says for money in (everything else is money out).
DEFAULT_CREDIT_MARKERS = ("贷", "收", "收入", "贷方", "来账", "C", "CR", "CREDIT", "+")


def normalize_header(text: str) -> str:
    """A header as compared: no spaces or asterisks, full-width brackets and slashes as ASCII, case-folded."""
    text = str(text or "").translate(str.maketrans({"（": "(", "）": ")", "／": "/", "：": ":", "\u3000": " "}))
    return re.sub(r"[\s*:]", "", text).casefold()


@dataclass(frozen=True)
class ColumnMapping:
    key: str
    name: str
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    credit_markers: tuple[str, ...] = DEFAULT_CREDIT_MARKERS

    def headers(self, field_name: str) -> tuple[str, ...]:
        return self.columns.get(field_name, ())

    def has_amount(self) -> bool:
        return bool(self.headers("amount") or self.headers("credit") or self.headers("debit"))


def _m(key: str, name, **columns: tuple[str, ...] | str) -> ColumnMapping:
    return ColumnMapping(key=key, name=name, columns={k: (v,) if isinstance(v, str) else tuple(v) for k, v in columns.items()})


BUILT_IN_MAPPINGS: list[ColumnMapping] = [
    _m(
        "icbc",
        _("ICBC (Industrial and Commercial Bank of China)"),
        booking_date=("交易时间", "交易日期", "入账日期"),
        debit=("借方发生额", "借方发生额(支取)", "借方金额"),
        credit=("贷方发生额", "贷方发生额(收入)", "贷方金额"),
        counterparty_name=("对方单位名称", "对方户名", "对方单位"),
        counterparty_account=("对方账号", "对方帐号"),
        memo=("摘要", "用途", "附言", "个性化信息"),
        bank_ref=("交易流水号",),
        balance=("余额", "账户余额"),
        account=("本方账号",),
        currency=("币种",),
    ),
    _m(
        "ccb",
        _("CCB (China Construction Bank)"),
        booking_date=("记账日期", "交易时间", "交易日期"),
        debit=("借方发生额(支取)", "借方发生额"),
        credit=("贷方发生额(收入)", "贷方发生额"),
        counterparty_name=("对方户名",),
        counterparty_account=("对方账号",),
        memo=("摘要", "备注", "用途"),
        bank_ref=("账户明细编号-交易流水号", "交易流水号"),
        balance=("余额", "账户余额"),
        currency=("币种",),
    ),
    _m(
        "cmb",
        _("CMB (China Merchants Bank)"),
        booking_date=("交易日", "交易日期"),
        value_date=("起息日",),
        debit=("借方金额",),
        credit=("贷方金额",),
        counterparty_name=("收(付)方名称", "收/付方名称", "对方户名"),
        counterparty_account=("收(付)方帐号", "收(付)方账号", "收/付方帐号", "收/付方账号"),
        memo=("摘要", "用途", "业务摘要", "其它摘要"),
        bank_ref=("流水号", "交易流水号"),
        balance=("余额",),
        currency=("币种",),
    ),
    _m(
        "boc",
        _("BOC (Bank of China)"),
        booking_date=("交易日期",),
        value_date=("起息日期",),
        amount=("交易金额",),
        payer_name=("付款人名称",),
        payer_account=("付款人账号",),
        payee_name=("收款人名称",),
        payee_account=("收款人账号",),
        memo=("摘要", "用途", "交易附言", "备注"),
        bank_ref=("交易流水号",),
        balance=("交易后余额",),
        currency=("交易货币",),
    ),
    _m(
        "abc",
        _("ABC (Agricultural Bank of China)"),
        booking_date=("交易时间", "交易日期"),
        credit=("收入金额",),
        debit=("支出金额",),
        counterparty_name=("对方户名",),
        counterparty_account=("对方账号",),
        memo=("交易用途", "摘要", "交易摘要", "交易附言"),
        bank_ref=("交易流水号",),
        balance=("本次余额", "账户余额"),
        currency=("币种",),
    ),
    _m(
        "generic",
        _("Other bank (common column names)"),
        booking_date=("交易日期", "记账日期", "日期", "date", "booking date"),
        value_date=("起息日", "value date"),
        amount=("交易金额", "金额", "发生额", "amount"),
        credit=("收入", "收入金额", "贷方", "credit"),
        debit=("支出", "支出金额", "借方", "debit"),
        direction=("借贷标志", "借贷方向", "收支"),
        counterparty_name=("对方户名", "对方名称", "对方单位", "counterparty", "payer"),
        counterparty_account=("对方账号", "对方帐号", "counterparty account", "payer account"),
        memo=("摘要", "用途", "附言", "备注", "memo", "description"),
        bank_ref=("流水号", "交易流水号", "reference"),
        balance=("余额", "balance"),
        currency=("币种", "currency"),
    ),
]
BUILT_IN_BY_KEY = {mapping.key: mapping for mapping in BUILT_IN_MAPPINGS}
