"""Bank accounts, imported statements and their lines, and what reconciles them with invoices.

A file is imported once (`BankImport`, unique by its SHA-256); each statement in it keeps its
balances and a warning when they do not add up; each line is stored once per account, keyed by
the bank's transaction id or, without one, by a stable key of its date, amount, counterparty,
memo and ordinal, so an overlapping file adds only the lines not seen before. A credit line is
matched to invoices through the payments services (a payment whose source is the line), or
marked as not a customer payment; either can be undone.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField

from .parsing.mappings import DEFAULT_CREDIT_MARKERS, MAPPING_FIELDS, ColumnMapping
from .parsing.types import normalize_account

MONEY = {"max_digits": 14, "decimal_places": 2}
IMPORT_PERMISSION = "billing.add_bankstatement"
RECONCILE_PERMISSION = "billing.reconcile_bankstatementline"
VIEW_PERMISSION = "billing.view_bankstatement"


class BankFileMapping(models.Model):
    """A user's column mapping for one bank's CSV/XLSX export, defined once and reused."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    # field → the headers it may appear under, e.g. {"booking_date": ["交易日期"], "credit": ["收入"]}
    columns = models.JSONField(_("columns"), default=dict)
    credit_markers = models.CharField(
        _("words for money in"),
        max_length=200,
        blank=True,
        help_text=_("What a direction column says for money in, comma-separated (e.g. 贷, C)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("bank file mapping")
        verbose_name_plural = _("bank file mappings")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_column_mapping(self) -> ColumnMapping:
        markers = tuple(m.strip() for m in self.credit_markers.split(",") if m.strip()) or DEFAULT_CREDIT_MARKERS
        columns = {key: tuple(h for h in headers if h) for key, headers in (self.columns or {}).items() if key in MAPPING_FIELDS}
        return ColumnMapping(key=f"user-{self.pk}", name=self.name, columns=columns, credit_markers=markers)


class BankAccount(models.Model):
    """One of the company's own bank accounts, whose statements are imported."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    number = models.CharField(_("account number"), max_length=60, help_text=_("IBAN or account number as the bank prints it."))
    number_key = models.CharField(_("account number (compared)"), max_length=60, unique=True, editable=False)
    currency = models.CharField(_("currency"), max_length=3, default=settings.CURRENCY)
    file_mapping = models.ForeignKey(
        BankFileMapping,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("column mapping for CSV/Excel exports"),
        help_text=_("Leave empty to recognise the bank's export by its column names."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def save(self, *args, **kwargs):
        # The compared form follows the printed number; it is what statements are matched by.
        self.number_key = normalize_account(self.number)
        if kwargs.get("update_fields") is not None and "number" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "number_key"}
        super().save(*args, **kwargs)


class BankImport(models.Model):
    """One uploaded file: imported once (by its SHA-256), with what it brought."""

    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    file_format = models.CharField(_("format"), max_length=10)
    mapping_name = models.CharField(_("column mapping"), max_length=100, blank=True)
    line_count = models.PositiveIntegerField(_("lines in the file"), default=0)
    imported_count = models.PositiveIntegerField(_("lines imported"), default=0)
    skipped_count = models.PositiveIntegerField(_("lines already imported"), default=0)
    matched_count = models.PositiveIntegerField(_("lines matched automatically"), default=0)
    # More exact matches than are applied during the upload: a worker applies them (and beat resumes it).
    auto_apply_pending = models.BooleanField(_("matches being applied"), default=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("bank file import")
        verbose_name_plural = _("bank file imports")
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name


class BankStatement(models.Model):
    """One statement of one account from an imported file, with its balances as the bank gave them."""

    bank_import = models.ForeignKey(BankImport, on_delete=models.PROTECT, related_name="statements", verbose_name=_("import"))
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="statements", verbose_name=_("account"))
    position = models.PositiveSmallIntegerField(_("position in the file"), default=1)
    reference = models.CharField(_("statement reference"), max_length=255, blank=True)
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    opening_balance = models.DecimalField(_("opening balance"), null=True, blank=True, **MONEY)
    closing_balance = models.DecimalField(_("closing balance"), null=True, blank=True, **MONEY)
    movement = models.DecimalField(_("sum of the lines"), default=Decimal("0.00"), **MONEY)
    # Opening + lines ≠ closing: imported all the same, and shown.
    balance_mismatch = models.BooleanField(_("balances do not add up"), default=False)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    imported_count = models.PositiveIntegerField(_("new lines"), default=0)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-bank_import__imported_at", "-pk"]
        permissions = [("reconcile_bankstatementline", _("Can match bank statement lines to invoices"))]
        constraints = [
            models.UniqueConstraint(fields=["bank_import", "position"], name="bank_statement_position_unique"),
        ]

    def __str__(self) -> str:
        return self.reference or gettext("Statement %(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("billing:bankstatement_detail", args=[self.pk])

    @property
    def balance_difference(self) -> Decimal | None:
        if self.opening_balance is None or self.closing_balance is None:
            return None
        return self.closing_balance - self.opening_balance - self.movement


class LineStatus(models.TextChoices):
    UNMATCHED = "unmatched", _("To match")
    MATCHED = "matched", _("Matched")
    IGNORED = "ignored", _("Not a customer payment")


class MatchMethod(models.TextChoices):
    NUMBER = "number", _("Invoice or order number in the memo")
    ACCOUNT = "account", _("Payer's account known for the customer")
    NAME = "name", _("Payer's name is the customer's")
    AMOUNT = "amount", _("Amount equals an open invoice")
    MANUAL = "manual", _("Chosen by hand")


L = LineStatus


class BankStatementLine(FSMModelMixin, models.Model):
    """One booked line of a statement: money in (positive) or out (negative), stored once per account."""

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines", verbose_name=_("statement"))
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="lines", verbose_name=_("account"))
    # "ref:<the bank's transaction id>" or "key:<hash of date, amount, counterparty, memo, ordinal>".
    dedup_key = models.CharField(_("duplicate key"), max_length=120, editable=False)
    booking_date = models.DateField(_("booking date"))
    value_date = models.DateField(_("value date"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    bank_ref = models.CharField(_("bank reference"), max_length=100, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    counterparty_name = models.CharField(_("counterparty"), max_length=200, blank=True)
    counterparty_account = models.CharField(_("counterparty account"), max_length=60, blank=True)
    counterparty_key = models.CharField(_("counterparty account (compared)"), max_length=60, blank=True, db_index=True)
    memo = models.CharField(_("memo"), max_length=500, blank=True)
    is_reversal = models.BooleanField(_("reversal"), default=False)
    transaction_code = models.CharField(_("transaction code"), max_length=40, blank=True)
    status = StateField(_("status"), max_length=10, choices=LineStatus.choices, default=L.UNMATCHED, protected=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bank_lines",
        verbose_name=_("customer"),
    )
    match_method = models.CharField(_("matched by"), max_length=10, choices=MatchMethod.choices, blank=True)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("matched by")
    )
    matched_at = models.DateTimeField(_("matched"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        ordering = ["booking_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "dedup_key"], name="bank_line_once_per_account"),
            models.CheckConstraint(
                condition=~Q(status=L.MATCHED) | Q(customer__isnull=False), name="bank_line_matched_has_customer"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "booking_date", "id"], name="bank_line_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.booking_date} {self.amount} {self.counterparty_name}".strip()

    def get_absolute_url(self) -> str:
        return reverse("billing:bankline_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self.booking_date:%Y-%m-%d} · {self.amount} · {self.counterparty_name or self.memo[:30]}"

    @property
    def is_credit(self) -> bool:
        return self.amount > 0

    # --- transitions: fired through config.transitions (transitions_fire for many lines at once) ---
    TRANSITION_LABELS = {"match": _("match"), "ignore": _("mark as not a customer payment"), "reopen": _("undo")}

    def _is_credit(self) -> bool:
        return self.amount > 0

    @transition(field=status, source=L.UNMATCHED, target=L.MATCHED, conditions=[_is_credit], permission=RECONCILE_PERMISSION)
    def match(self) -> None:
        """Money in is recognised as a customer's payment of invoices (or an advance)."""

    @transition(field=status, source=L.UNMATCHED, target=L.IGNORED, permission=RECONCILE_PERMISSION)
    def ignore(self) -> None:
        """The line is no customer payment (a fee, a transfer, a refund received…)."""

    @transition(field=status, source=[L.MATCHED, L.IGNORED], target=L.UNMATCHED, permission=RECONCILE_PERMISSION)
    def reopen(self) -> None:
        """The match is undone: the line waits in the queue again."""


class MatchSuggestion(models.Model):
    """An open invoice a credit line may pay, why, and how much of the line it would take."""

    line = models.ForeignKey(BankStatementLine, on_delete=models.CASCADE, related_name="suggestions", verbose_name=_("line"))
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.CASCADE, related_name="+", verbose_name=_("invoice"))
    method = models.CharField(_("found by"), max_length=10, choices=MatchMethod.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("match suggestion")
        verbose_name_plural = _("match suggestions")
        ordering = ["-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["line", "invoice"], name="bank_suggestion_once_per_invoice")]

    def __str__(self) -> str:
        return f"{self.line_id} → {self.invoice_id} ({self.method})"


class PayerAccount(models.Model):
    """A bank account a customer has paid from: its next payments are recognised by it."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="payer_accounts", verbose_name=_("customer")
    )
    account_key = models.CharField(_("account number (compared)"), max_length=60, db_index=True)
    account_number = models.CharField(_("account number"), max_length=60)
    payer_name = models.CharField(_("payer name"), max_length=200, blank=True)
    last_used = models.DateField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("payer account")
        verbose_name_plural = _("payer accounts")
        constraints = [models.UniqueConstraint(fields=["customer", "account_key"], name="payer_account_once_per_customer")]

    def __str__(self) -> str:
        return f"{self.account_number} → {self.customer_id}"
