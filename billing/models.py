"""Invoices (增值税发票) and red-letter credit notes (红字发票): the legal documents that turn
delivered goods into receivables.

An invoice is drafted from shipped order lines (or, as a prepayment invoice, from an order before
it ships), and issued: from then on a database trigger refuses any change to it except the two
columns the payments services maintain (`amount_paid`, `amount_credited`). Whether it is paid is
derived from those amounts, never a state. Other billing areas (payments, bank statements,
receivables) keep their models in modules of their own and use these as foreign-key targets.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.money import ZERO, equal_to_the_cent
from config.timeline import TimelineEvent

from .validation import validate_fapiao_number, validate_red_letter_number, validate_tax_classification_code

ISSUE_INVOICE_PERMISSION = "billing.issue_invoice"
ISSUE_CREDIT_NOTE_PERMISSION = "billing.issue_creditnote"

# The VAT rates a line may carry (as fractions): 13 %, 9 %, 6 %, 5 % and 3 % (small taxpayers) and 0 %.
TAX_RATES = [Decimal("0.13"), Decimal("0.09"), Decimal("0.06"), Decimal("0.05"), Decimal("0.03"), Decimal("0.00")]
# The tax authority accepts a line's tax within this distance of net × rate.
TAX_TOLERANCE = Decimal("0.06")


def tax_rate_choices() -> list[tuple[Decimal, str]]:
    return [(rate, f"{(rate * 100).normalize():f} %") for rate in TAX_RATES]


class InvoiceKind(models.TextChoices):
    SPECIAL = "special", _("Special VAT invoice")
    ORDINARY = "ordinary", _("Ordinary VAT invoice")


class InvoiceMedium(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronic")
    PAPER = "paper", _("Paper")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    CANCELLED = "cancelled", _("Discarded")


class PaymentState(models.TextChoices):
    """What an issued invoice's amounts say (derived, never stored)."""

    UNPAID = "unpaid", _("Unpaid")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    CREDITED = "credited", _("Credited")


IS = InvoiceStatus


def due_date_for(*, customer, issued_on: date) -> date:
    """The customer's payment terms from the issue date: N days, or (BILLING_TERMS_END_OF_MONTH) end of month + N."""
    days = customer.payment_terms_days
    if getattr(settings, "BILLING_TERMS_END_OF_MONTH", False):
        first_of_next = (issued_on.replace(day=28) + timedelta(days=4)).replace(day=1)
        return first_of_next - timedelta(days=1) + timedelta(days=days)
    return issued_on + timedelta(days=days)


class InvoiceQuerySet(models.QuerySet):
    def issued(self) -> InvoiceQuerySet:
        return self.filter(status=IS.ISSUED)

    def open(self) -> InvoiceQuerySet:
        """Issued and not yet settled: gross − credited − paid > 0."""
        return self.issued().filter(total_gross__gt=F("amount_credited") + F("amount_paid"))

    def overdue(self, *, on: date | None = None, days: int = 0) -> InvoiceQuerySet:
        """Open and more than `days` days past the due date on `on` (today)."""
        on = on or timezone.localdate()
        return self.open().filter(due_date__lt=on - timedelta(days=days))


def _has_lines(invoice: Invoice) -> bool:
    return invoice.lines.exists()


def invoice_pdf_path(invoice: Invoice, filename: str) -> str:
    return f"billing/invoices/{invoice.issued_at:%Y/%m}/{filename}"


def credit_note_pdf_path(credit_note: CreditNote, filename: str) -> str:
    return f"billing/credit_notes/{credit_note.issued_at:%Y/%m}/{filename}"


class Invoice(FSMModelMixin, models.Model):
    """A VAT invoice (发票) to one customer for shipped goods of one or more of its orders, or a
    prepayment invoice for an order before it ships. Issued once, never changed afterwards."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="invoices", verbose_name=_("customer")
    )
    kind = models.CharField(_("invoice kind"), max_length=10, choices=InvoiceKind.choices, default=InvoiceKind.ORDINARY)
    medium = models.CharField(_("medium"), max_length=10, choices=InvoiceMedium.choices, default=InvoiceMedium.ELECTRONIC)
    is_prepayment = models.BooleanField(_("prepayment invoice"), default=False)
    status = StateField(_("status"), max_length=10, choices=InvoiceStatus.choices, default=IS.DRAFT, protected=True)
    # Gapless per year (INV-2026-000001), taken inside the issuing transaction; empty while a draft.
    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True, editable=False)
    # The buyer as printed on the invoice (a snapshot: later changes to the customer do not alter it).
    buyer_name = models.CharField(_("buyer's name"), max_length=200)
    buyer_tax_id = models.CharField(_("buyer's tax ID"), max_length=18, blank=True)
    buyer_address_phone = models.CharField(_("buyer's address and phone"), max_length=300, blank=True)
    buyer_bank_account = models.CharField(_("buyer's bank and account"), max_length=300, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=settings.CURRENCY)
    total_net = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2, default=ZERO)
    total_tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, default=ZERO)
    total_gross = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=ZERO)
    # Maintained by the credit note and payments services (the only columns that change once issued).
    amount_credited = models.DecimalField(_("credited"), max_digits=14, decimal_places=2, default=ZERO)
    amount_paid = models.DecimalField(_("paid"), max_digits=14, decimal_places=2, default=ZERO)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    # The tax authority's number: 8 digits (legacy fapiao) or 20 digits (fully digital 数电发票).
    fapiao_number = models.CharField(_("fapiao number"), max_length=20, blank=True, validators=[validate_fapiao_number])
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    pdf = models.FileField(_("PDF"), upload_to=invoice_pdf_path, blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("issue_invoice", _("Can issue invoices")),
            ("export_invoice", _("Can export invoices")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_net__gte=0)
                & Q(total_tax__gte=0)
                & equal_to_the_cent("total_gross", F("total_net") + F("total_tax")),
                name="invoice_totals_consistent",
            ),
            models.CheckConstraint(
                condition=Q(amount_credited__gte=0) & Q(amount_credited__lte=F("total_gross")),
                name="invoice_credited_within_total",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=F("total_gross")), name="invoice_paid_within_total"
            ),
            models.CheckConstraint(
                condition=Q(status=IS.DRAFT) | Q(status=IS.CANCELLED) | (Q(number__isnull=False) & Q(issued_at__isnull=False)),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(
                condition=Q(fapiao_number="") | Q(fapiao_number__regex=r"^([0-9]{8}|[0-9]{20})$"),
                name="invoice_fapiao_number_form",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status", "due_date"], name="invoice_customer_due"),
            models.Index(fields=["status", "due_date", "id"], name="invoice_status_due"),
            models.Index(fields=["-issued_at", "-id"], name="invoice_newest_issued"),
        ]

    def __str__(self) -> str:
        return self.number or gettext("Draft invoice %(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("billing:invoice_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self} · {self.buyer_name}"

    @property
    def open_amount(self) -> Decimal:
        """What the customer still owes: gross − credited − paid (negative: paid more than is left)."""
        return self.total_gross - self.amount_credited - self.amount_paid

    @property
    def balance(self) -> Decimal:
        """The open amount, by the name the order review's overdue rule reads."""
        return self.open_amount

    @property
    def creditable_amount(self) -> Decimal:
        """What red-letter credit notes may still take back: gross − credited."""
        return self.total_gross - self.amount_credited

    def is_overdue(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.status == IS.ISSUED and self.open_amount > 0 and self.due_date is not None and self.due_date < on

    @property
    def payment_state(self) -> str:
        """unpaid, partly paid, paid, overdue or credited: derived from the amounts, for issued invoices."""
        if self.amount_credited >= self.total_gross and self.total_gross > 0:
            return PaymentState.CREDITED
        if self.open_amount <= 0:
            return PaymentState.PAID
        if self.is_overdue():
            return PaymentState.OVERDUE
        if self.amount_paid > 0:
            return PaymentState.PARTLY_PAID
        return PaymentState.UNPAID

    def get_payment_state_display(self) -> str:
        return PaymentState(self.payment_state).label

    # --- transitions: fired only through config.transitions.transition_apply (services) ---------
    TRANSITION_LABELS = {"issue": _("issue"), "discard": _("discard")}

    @property
    def timeline_event_model(self) -> type[InvoiceEvent]:
        return InvoiceEvent

    def transition_problems(self, name: str) -> list[str]:
        if name == "issue" and not _has_lines(self):
            return [gettext("An invoice needs at least one line.")]
        return []

    @transition(field=status, source=IS.DRAFT, target=IS.ISSUED, conditions=[_has_lines], permission=ISSUE_INVOICE_PERMISSION)
    def issue(self) -> None:
        """The invoice becomes a legal document: numbered, dated, due by the customer's terms, never changed again."""
        self.issued_at = timezone.now()
        self.due_date = due_date_for(customer=self.customer, issued_on=timezone.localdate(self.issued_at))

    @transition(field=status, source=IS.DRAFT, target=IS.CANCELLED, permission=ISSUE_INVOICE_PERMISSION)
    def discard(self) -> None:
        """A draft is abandoned; its quantities become invoiceable again."""


class InvoiceLine(models.Model):
    """One line of an invoice: usually the shipped, not yet invoiced quantity of one order line."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice"))
    position = models.PositiveIntegerField(_("position"))
    order = models.ForeignKey(
        "orders.SalesOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
        verbose_name=_("order"),
    )
    order_line = models.ForeignKey(
        "orders.SalesOrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
        verbose_name=_("order line"),
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
        verbose_name=_("product"),
    )
    description = models.CharField(_("description"), max_length=200)
    tax_classification_code = models.CharField(
        _("tax classification code"), max_length=19, blank=True, validators=[validate_tax_classification_code]
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    # Net of discount; more places than cents because a discounted unit price rarely is a whole cent.
    unit_price = models.DecimalField(_("unit price (net)"), max_digits=18, decimal_places=6)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4, choices=tax_rate_choices())
    net = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2)
    gross = models.DecimalField(_("gross amount"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoice_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(net__gte=0) & Q(tax__gte=0) & equal_to_the_cent("gross", F("net") + F("tax")),
                name="invoice_line_amounts_consistent",
            ),
            models.CheckConstraint(
                condition=Q(tax__gte=F("net") * F("tax_rate") - TAX_TOLERANCE)
                & Q(tax__lte=F("net") * F("tax_rate") + TAX_TOLERANCE),
                name="invoice_line_tax_within_tolerance",
            ),
            models.CheckConstraint(condition=Q(tax_rate__in=TAX_RATES), name="invoice_line_tax_rate_allowed"),
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.position} {self.description}"

    @property
    def tax_percent(self) -> Decimal:
        return (self.tax_rate * 100).normalize()


class InvoiceEvent(TimelineEvent):
    """The invoice's timeline: drafted, issued, e-mailed, credited, payments recorded…"""

    class Kind(models.TextChoices):
        CREATED = "created", _("Drafted")
        ISSUE = "issue", _("Issued")
        DISCARD = "discard", _("Discarded")
        EMAIL = "email", _("E-mail sent")
        CREDITED = "credited", _("Credited")
        FAPIAO = "fapiao", _("Fapiao number recorded")
        PAYMENT = "payment", _("Payment")
        NOTE = "note", _("Note")

    SUBJECT_FIELD = "invoice"
    STATES = dict(InvoiceStatus.choices)
    WORDING = {
        Kind.CREATED: lambda p: (
            gettext("Drafted from %(orders)s.") % {"orders": ", ".join(p.get("orders", []))}
            if p.get("orders")
            else gettext("Drafted.")
        ),
        Kind.ISSUE: lambda p: gettext("Issued as %(number)s.") % {"number": p.get("number", "")},
        Kind.EMAIL: lambda p: gettext("Invoice e-mailed to %(email)s.") % {"email": p.get("email", "")},
        Kind.CREDITED: lambda p: (
            gettext("Credit note %(number)s took back %(amount)s.")
            % {"number": p.get("number", ""), "amount": p.get("amount", "")}
        ),
        Kind.FAPIAO: lambda p: gettext("Fapiao number %(number)s.") % {"number": p.get("number", "")},
        Kind.PAYMENT: lambda p: _payment_sentence(p),
    }

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events", verbose_name=_("invoice"))
    kind = models.CharField(_("kind"), max_length=30)

    class Meta:
        verbose_name = _("invoice event")
        verbose_name_plural = _("invoice events")
        ordering = ["at", "pk"]


def _payment_sentence(params: dict) -> str:
    """Money on the invoice: a payment allocated to it or that allocation undone, a write-off or its undoing
    (WriteOffReason comes from the payments models, imported at the foot of this module)."""
    if "write_off" in params:
        amount = params["write_off"].lstrip("-")
        if params.get("undone"):
            return gettext("Write-off of %(amount)s undone.") % {"amount": amount}
        reason = dict(WriteOffReason.choices).get(params.get("reason", ""), params.get("reason", ""))
        return gettext("%(amount)s written off (%(reason)s).") % {"amount": amount, "reason": reason}
    values = {"amount": params["amount"].lstrip("-"), "payment": params["payment"]}
    if params.get("undone"):
        return gettext("Allocation of %(amount)s from payment %(payment)s undone.") % values
    return gettext("%(amount)s paid by payment %(payment)s.") % values


class CreditNoteReason(models.TextChoices):
    SALES_RETURN = "sales_return", _("Sales return")
    PRICE_CONCESSION = "price_concession", _("Price concession")
    WRONG_INVOICE = "wrong_invoice", _("Wrong invoice")
    OTHER = "other", _("Other")


class CreditNoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    CANCELLED = "cancelled", _("Discarded")


C = CreditNoteStatus


def _credit_note_has_lines(credit_note: CreditNote) -> bool:
    return credit_note.lines.exists()


def _credit_note_has_red_letter_number(credit_note: CreditNote) -> bool:
    return credit_note.invoice.kind != InvoiceKind.SPECIAL or bool(credit_note.red_letter_number)


class CreditNote(FSMModelMixin, models.Model):
    """A red-letter credit note (红字发票): takes back all or part of one issued invoice, never more."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("invoice"))
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("customer")
    )
    status = StateField(_("status"), max_length=10, choices=CreditNoteStatus.choices, default=C.DRAFT, protected=True)
    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True, editable=False)
    reason = models.CharField(_("reason"), max_length=20, choices=CreditNoteReason.choices)
    # 红字发票信息确认单编号: required to issue a credit note against a special VAT invoice.
    red_letter_number = models.CharField(
        _("red-letter confirmation number"), max_length=20, blank=True, validators=[validate_red_letter_number]
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=settings.CURRENCY)
    # Positive amounts: what is taken back from the invoice.
    total_net = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2, default=ZERO)
    total_tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, default=ZERO)
    total_gross = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=ZERO)
    # Payments may refund the credited amount; maintained by the payments services.
    amount_refunded = models.DecimalField(_("refunded"), max_digits=14, decimal_places=2, default=ZERO)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    fapiao_number = models.CharField(_("fapiao number"), max_length=20, blank=True, validators=[validate_fapiao_number])
    # What created the draft (e.g. "return:12"), so a redelivered event creates it once.
    source_key = models.CharField(_("source"), max_length=60, unique=True, null=True, blank=True, editable=False)
    pdf = models.FileField(_("PDF"), upload_to=credit_note_pdf_path, blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-created_at", "-pk"]
        permissions = [("issue_creditnote", _("Can issue credit notes"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_net__gte=0)
                & Q(total_tax__gte=0)
                & equal_to_the_cent("total_gross", F("total_net") + F("total_tax")),
                name="credit_note_totals_consistent",
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=F("total_gross")),
                name="credit_note_refunded_within_total",
            ),
            models.CheckConstraint(
                condition=Q(status=C.DRAFT) | Q(status=C.CANCELLED) | (Q(number__isnull=False) & Q(issued_at__isnull=False)),
                name="credit_note_issued_has_number",
            ),
            models.CheckConstraint(
                condition=Q(fapiao_number="") | Q(fapiao_number__regex=r"^([0-9]{8}|[0-9]{20})$"),
                name="credit_note_fapiao_number_form",
            ),
        ]
        indexes = [models.Index(fields=["customer", "status"], name="credit_note_customer_status")]

    def __str__(self) -> str:
        return self.number or gettext("Draft credit note %(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("billing:creditnote_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self} · {self.invoice}"

    def clean(self) -> None:
        if self.invoice_id and self.invoice.kind == InvoiceKind.SPECIAL and not self.red_letter_number:
            raise ValidationError(
                {
                    "red_letter_number": gettext(
                        "A credit note for a special VAT invoice needs the red-letter confirmation number."
                    )
                }
            )

    TRANSITION_LABELS = {"issue": _("issue"), "discard": _("discard")}

    @property
    def timeline_event_model(self) -> type[CreditNoteEvent]:
        return CreditNoteEvent

    def transition_problems(self, name: str) -> list[str]:
        problems = []
        if name == "issue":
            if not _credit_note_has_lines(self):
                problems.append(gettext("A credit note needs at least one line."))
            if not _credit_note_has_red_letter_number(self):
                problems.append(gettext("A credit note for a special VAT invoice needs the red-letter confirmation number."))
        return problems

    @transition(
        field=status,
        source=C.DRAFT,
        target=C.ISSUED,
        conditions=[_credit_note_has_lines, _credit_note_has_red_letter_number],
        permission=ISSUE_CREDIT_NOTE_PERMISSION,
    )
    def issue(self) -> None:
        """The credit note becomes a legal document and reduces its invoice, in the same transaction."""
        self.issued_at = timezone.now()

    @transition(field=status, source=C.DRAFT, target=C.CANCELLED, permission=ISSUE_CREDIT_NOTE_PERMISSION)
    def discard(self) -> None:
        """A draft credit note is abandoned; the invoice keeps its amounts."""


class CreditNoteLine(models.Model):
    """What one credit note takes back of one invoice line: units (a return) or only money (a concession)."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("credit note"))
    invoice_line = models.ForeignKey(
        InvoiceLine, on_delete=models.PROTECT, related_name="credit_note_lines", verbose_name=_("invoice line")
    )
    position = models.PositiveIntegerField(_("position"))
    description = models.CharField(_("description"), max_length=200)
    # Units taken back (0 for a price concession that takes back money only).
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4, choices=tax_rate_choices())
    net = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2)
    gross = models.DecimalField(_("gross amount"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(net__gte=0) & Q(tax__gte=0) & equal_to_the_cent("gross", F("net") + F("tax")) & Q(gross__gt=0),
                name="credit_note_line_amounts_consistent",
            ),
            models.CheckConstraint(
                condition=Q(tax__gte=F("net") * F("tax_rate") - TAX_TOLERANCE)
                & Q(tax__lte=F("net") * F("tax_rate") + TAX_TOLERANCE),
                name="credit_note_line_tax_within_tolerance",
            ),
            models.UniqueConstraint(fields=["credit_note", "position"], name="credit_note_line_position_unique"),
            models.UniqueConstraint(fields=["credit_note", "invoice_line"], name="credit_note_line_once_per_invoice_line"),
        ]

    def __str__(self) -> str:
        return f"{self.credit_note_id}/{self.position} {self.description}"


class CreditNoteEvent(TimelineEvent):
    """The credit note's timeline: drafted, issued, e-mailed, refunded."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Drafted")
        ISSUE = "issue", _("Issued")
        DISCARD = "discard", _("Discarded")
        EMAIL = "email", _("E-mail sent")
        REFUND = "refund", _("Refund")

    SUBJECT_FIELD = "credit_note"
    STATES = dict(CreditNoteStatus.choices)
    WORDING = {
        Kind.CREATED: lambda p: (
            gettext("Drafted for return %(ref)s.") % {"ref": p["return"]} if p.get("return") else gettext("Drafted.")
        ),
        Kind.ISSUE: lambda p: gettext("Issued as %(number)s.") % {"number": p.get("number", "")},
        Kind.EMAIL: lambda p: gettext("Credit note e-mailed to %(email)s.") % {"email": p.get("email", "")},
        Kind.REFUND: lambda p: (
            gettext("Refund %(number)s of %(amount)s recorded.") % {"number": p["number"], "amount": p["amount"]}
        ),
    }

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="events", verbose_name=_("credit note"))
    kind = models.CharField(_("kind"), max_length=30)

    class Meta:
        verbose_name = _("credit note event")
        verbose_name_plural = _("credit note events")
        ordering = ["at", "pk"]


from .bank.models import BankAccount, BankFileMapping, BankImport, BankStatement, BankStatementLine, MatchSuggestion, PayerAccount  # noqa: E402,F401,I001  (registered with billing)
from .payments.models import Payment, PaymentAllocation, PaymentEvent, Refund, RefundEvent, WriteOff, WriteOffReason  # noqa: E402,F401,I001  (registered with billing)
from .statements.models import *  # noqa: E402,F401,F403  (statements and dunning register with the billing app)
