"""Customers in and out of spreadsheets: the columns, how a row is matched and saved, the export rows."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import replace

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.errors import DomainError
from config.imports import Column, ImportRowError, ImportSpec

from .forms import CustomerImportForm
from .models import Customer, CustomerEvent
from .services import customer_create, customer_update

CUSTOMER_COLUMNS = [
    Column("code", gettext_lazy("Code"), aliases=("customer code", "客户编号", "编号")),
    Column(
        "name", gettext_lazy("Name"), required=True, required_unless="code", aliases=("customer name", "客户名称", "名称", "客户")
    ),
    Column("alt_name", gettext_lazy("Other name"), aliases=("english name", "英文名称", "其他名称")),
    Column("kind", gettext_lazy("Kind"), aliases=("type", "类型")),
    Column("tax_id", gettext_lazy("Tax ID"), aliases=("tax number", "税号", "统一社会信用代码")),
    Column("phone", gettext_lazy("Phone"), aliases=("telephone", "tel", "电话", "手机")),
    Column("email", gettext_lazy("Email"), aliases=("e-mail", "邮箱", "电子邮件")),
    Column("language", gettext_lazy("Language"), aliases=("语言",)),
    Column("credit_limit", gettext_lazy("Credit limit"), aliases=("信用额度",)),
    Column("credit_rating", gettext_lazy("Credit rating"), aliases=("rating", "信用等级")),
    Column("payment_terms_days", gettext_lazy("Payment terms (days)"), aliases=("payment terms", "账期", "付款期限")),
    Column("segment", gettext_lazy("Segment"), aliases=("客户分类",)),
    Column("tags", gettext_lazy("Tags"), aliases=("标签",)),
    Column("salesperson", gettext_lazy("Salesperson"), aliases=("sales", "业务员", "销售")),
    Column("notes", gettext_lazy("Notes"), aliases=("备注",)),
]
# Read-only columns the export adds; an import ignores them.
EXPORT_ONLY_COLUMNS = [
    ("is_blocked", gettext_lazy("Blocked")),
    ("blocked_reason", gettext_lazy("Reason for block")),
    ("created_at", gettext_lazy("Created")),
]


# Other names the app itself gives a column (the list's column titles); a column's form label
# (the model field's verbose name) is one too.
LIST_TITLES = {
    "credit_rating": [gettext_lazy("Rating")],
    "payment_terms_days": [gettext_lazy("Payment terms")],
}
# Chinese labels the app showed before docs/GLOSSARY.md settled the terms (电子邮件 became 电子邮箱,
# 付款期限 became 账期): sheets exported or headed with them earlier must still import.
FORMER_LABELS = {
    "email": ["电子邮件"],
    "payment_terms_days": ["付款期限（天）"],
}


def _own_labels(column: Column) -> list[str]:
    """Every label the app shows (or showed) for this column, in each of the site's languages, also with ASCII brackets."""
    labels = [column.label, *LIST_TITLES.get(column.key, []), *FORMER_LABELS.get(column.key, [])]
    try:
        labels.append(Customer._meta.get_field(column.key).verbose_name)
    except FieldDoesNotExist:
        pass
    names: list[str] = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for label in labels:
                text = str(label)
                # 账期（天） is often typed 账期(天): full-width brackets and spaces become ASCII.
                names.extend(name for name in (text, unicodedata.normalize("NFKC", text)) if name not in names)
    return names


@functools.cache
def customer_columns() -> list[Column]:
    """The columns, each also known by the labels the app shows for it: a sheet headed as the
    Chinese (or English) pages and export word them is understood."""
    return [replace(column, aliases=(*column.aliases, *_own_labels(column))) for column in CUSTOMER_COLUMNS]


class CustomerImport(ImportSpec):
    """Rows with a code update that customer; rows without one create a new customer.

    Rows that change credit terms are refused, each with its message, unless finance or a manager imports.
    """

    model = Customer
    match_key = "code"

    def __init__(self, user=None):
        self.form_class = CustomerImportForm.for_user(user)

    @property
    def columns(self) -> list[Column]:
        return customer_columns()

    def existing_by_key(self, keys):
        """Codes match whatever their case: "c000012" names C000012."""
        if not keys:
            return {}
        by_code = {c.code: c for c in Customer.objects.filter(code__in={k.upper() for k in keys})}
        return {key: by_code[key.upper()] for key in keys if key.upper() in by_code}

    def missing_key_error(self, key: str) -> str:
        return _("No customer has the code %(code)s. Leave the code empty to create a new customer.") % {"code": key}

    def row_label(self, *, form, existing) -> str:
        if existing is not None:
            return str(existing)
        return str(form.data.get("name", ""))

    def save(self, *, form, existing, by, filename: str):
        data = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
        try:
            if existing is None:
                return customer_create(data=data, by=by, event_kind=CustomerEvent.Kind.IMPORTED, params={"file": filename})
            return customer_update(
                customer=existing, data=data, by=by, event_kind=CustomerEvent.Kind.IMPORTED, params={"file": filename}
            )
        except DomainError as error:
            raise ImportRowError(str(error), field=error.field)


def customer_export_table(customers) -> tuple[list[str], list[list]]:
    """Headers (labels in the user's language) and one row per customer, importable again."""
    headers = [str(c.label) for c in CUSTOMER_COLUMNS] + [str(label) for _key, label in EXPORT_ONLY_COLUMNS]
    rows = []
    for c in customers:
        rows.append(
            [
                c.code,
                c.name,
                c.alt_name,
                c.get_kind_display(),
                c.tax_id,
                c.phone,
                c.email,
                c.get_language_display(),
                c.credit_limit,
                c.get_credit_rating_display(),
                c.payment_terms_days,
                c.get_segment_display(),
                c.tags,
                c.salesperson.get_username() if c.salesperson else "",
                c.notes,
                c.is_blocked,
                c.blocked_reason,
                c.created_at,
            ]
        )
    return headers, rows
