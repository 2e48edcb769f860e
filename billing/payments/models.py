"""Payments (收款), their allocation to invoices, small write-offs, refunds (退款) and acceptance bills (承兑汇票).

Money a customer paid is a `Payment`; `PaymentAllocation` rows say which invoices it pays. What is
not allocated is the customer's advance (预收款), which later invoices use. Allocations, write-offs
and refunds are never deleted: undoing one stamps it reversed and gives its amount back, so the
history stays. The running totals on a payment (allocated, written off, refunded) are kept in the
same transaction as the rows they sum, under the payment's row lock, and a CHECK keeps them within
the amount.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMModelMixin, transition

from config.fsm import StateField
from config.money import ZERO
from config.timeline import TimelineEvent

MONEY = {"max_digits": 14, "decimal_places": 2}
RECORD_PERMISSION = "billing.add_payment"
ALLOCATE_PERMISSION = "billing.allocate_payment"
BILL_PERMISSION = "billing.manage_acceptance_bill"
REFUND_PERMISSION = "billing.add_refund"
PAY_REFUND_PERMISSION = "billing.pay_refund"


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ALIPAY = "alipay", _("Alipay")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    CASH = "cash", _("Cash")
    ACCEPTANCE_BILL = "acceptance_bill", _("Acceptance bill")


# Money goes back to a customer by these (an acceptance bill is never handed back as a refund).
REFUND_METHODS = [(value, label) for value, label in PaymentMethod.choices if value != PaymentMethod.ACCEPTANCE_BILL]


class PaymentRecordState(models.TextChoices):
    RECORDED = "recorded", _("Recorded")
    VOID = "void", _("Void")


class BillState(models.TextChoices):
    """What became of an acceptance bill the customer paid with (not a bill: empty)."""

    NONE = "", _("Not a bill")
    HELD = "held", _("Held")
    ENDORSED = "endorsed", _("Endorsed")
    DISCOUNTED = "discounted", _("Discounted")
    COLLECTED = "collected", _("Collected")


class PaymentSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    BANK_STATEMENT = "bank_statement", _("Bank statement")
    IMPORT = "import", _("Import")


class Payment(FSMModelMixin, models.Model):
    """Money received from a customer, by one method, on one day; allocated to invoices or kept as an advance."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payments", verbose_name=_("customer")
    )
    date = models.DateField(_("date received"))
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default=settings.CURRENCY)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    state = StateField(
        _("state"), max_length=10, choices=PaymentRecordState.choices, default=PaymentRecordState.RECORDED, protected=True
    )
    payer_name = models.CharField(_("payer name"), max_length=200, blank=True)
    payer_account = models.CharField(_("payer account"), max_length=60, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    # Kept in step with the rows they sum, under this row's lock.
    amount_allocated = models.DecimalField(_("allocated"), default=ZERO, **MONEY)
    amount_written_off = models.DecimalField(_("written off"), default=ZERO, **MONEY)
    amount_refunded = models.DecimalField(_("refunded"), default=ZERO, **MONEY)
    # Acceptance bill (承兑汇票): who drew it, its number and maturity, and what became of it.
    bill_state = StateField(
        _("bill state"), max_length=12, choices=BillState.choices, default=BillState.NONE, blank=True, protected=True
    )
    bill_drawer = models.CharField(_("drawer"), max_length=200, blank=True)
    bill_acceptor = models.CharField(_("accepting bank"), max_length=200, blank=True)
    bill_number = models.CharField(_("bill number"), max_length=40, blank=True)
    bill_maturity_date = models.DateField(_("maturity date"), null=True, blank=True)
    bill_endorsee = models.CharField(_("endorsed to"), max_length=200, blank=True)
    bill_discount_fee = models.DecimalField(_("discount fee"), null=True, blank=True, **MONEY)
    bill_settled_on = models.DateField(_("endorsed, discounted or collected on"), null=True, blank=True)
    # Where the payment came from: typed in, or a bank statement line (any model, by content type and id).
    source = models.CharField(_("source"), max_length=20, choices=PaymentSource.choices, default=PaymentSource.MANUAL)
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("source type")
    )
    source_id = models.PositiveBigIntegerField(_("source id"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-date", "-pk"]
        permissions = [
            ("allocate_payment", _("Can allocate payments to invoices and write off small differences")),
            ("void_payment", _("Can void payments")),
            ("manage_acceptance_bill", _("Can endorse, discount and collect acceptance bills")),
            ("view_all_payment", _("Can see every customer's payments")),
            ("export_payment", _("Can export payments")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_allocated__gte=0) & Q(amount_written_off__gte=0) & Q(amount_refunded__gte=0),
                name="payment_used_not_negative",
            ),
            # Never more allocated, written off and refunded than was received.
            models.CheckConstraint(
                condition=Q(amount__gte=F("amount_allocated") + F("amount_written_off") + F("amount_refunded")),
                name="payment_used_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(method=PaymentMethod.ACCEPTANCE_BILL)
                | (~Q(bill_number="") & Q(bill_maturity_date__isnull=False) & ~Q(bill_state="")),
                name="payment_bill_has_number_and_maturity",
            ),
            models.CheckConstraint(
                condition=Q(method=PaymentMethod.ACCEPTANCE_BILL) | Q(bill_state=""), name="payment_bill_state_only_for_bills"
            ),
            # A bill is received once (a void payment frees its number).
            models.UniqueConstraint(
                fields=["bill_number"],
                condition=Q(method=PaymentMethod.ACCEPTANCE_BILL) & ~Q(state=PaymentRecordState.VOID),
                name="payment_bill_number_unique",
            ),
            # One bank statement line (or other source) records one payment.
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=Q(source_id__isnull=False) & ~Q(state=PaymentRecordState.VOID),
                name="payment_source_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-date", "-id"], name="payment_customer_newest"),
            models.Index(fields=["-date", "-id"], name="payment_newest"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("billing:payment_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self.number} · {self.customer.name}"

    @property
    def unallocated(self) -> Decimal:
        """The customer's advance left on this payment: not allocated, written off or refunded."""
        return self.amount - self.amount_allocated - self.amount_written_off - self.amount_refunded

    @property
    def is_bill(self) -> bool:
        return self.method == PaymentMethod.ACCEPTANCE_BILL

    @property
    def timeline_event_model(self) -> type[PaymentEvent]:
        return PaymentEvent

    TRANSITION_LABELS = {
        "void": _("void"),
        "endorse": _("endorse"),
        "discount": _("discount"),
        "collect": _("collect"),
    }

    def transition_problems(self, name: str) -> list[str]:
        if name == "void" and self.amount_refunded:
            return [gettext("Part of %(number)s was refunded: cancel the refund first.") % {"number": self.number}]
        if name == "void" and self.bill_state not in (BillState.NONE, BillState.HELD):
            return [gettext("The bill of %(number)s has left the company: it cannot be voided.") % {"number": self.number}]
        return []

    def _nothing_refunded(self) -> bool:
        return not self.amount_refunded

    def _bill_still_held(self) -> bool:
        return self.bill_state in (BillState.NONE, BillState.HELD)

    @transition(
        field=state,
        source=PaymentRecordState.RECORDED,
        target=PaymentRecordState.VOID,
        conditions=[_nothing_refunded, _bill_still_held],
        permission="billing.void_payment",
    )
    def void(self) -> None:
        """A payment recorded by mistake is voided (its allocations undone first); it stays in the list, struck out."""
        self.voided_at = timezone.now()

    @transition(field=bill_state, source=BillState.HELD, target=BillState.ENDORSED, permission=BILL_PERMISSION)
    def endorse(self) -> None:
        """The bill is endorsed (背书转让) to a supplier to pay what the company owes."""

    @transition(field=bill_state, source=BillState.HELD, target=BillState.DISCOUNTED, permission=BILL_PERMISSION)
    def discount(self) -> None:
        """The bill is discounted (贴现) at a bank before maturity, for its face value less a fee."""

    @transition(field=bill_state, source=BillState.HELD, target=BillState.COLLECTED, permission=BILL_PERMISSION)
    def collect(self) -> None:
        """At maturity the accepting bank paid the bill (托收)."""


class PaymentAllocation(models.Model):
    """Part of a payment paying one invoice; undone by stamping it reversed, never by deleting it."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("payment"))
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="payment_allocations", verbose_name=_("invoice")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("allocated by"),
    )
    created_at = models.DateTimeField(_("allocated"), auto_now_add=True)
    reversed_at = models.DateTimeField(_("undone"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("undone by")
    )

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_allocation_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["invoice"], name="allocation_invoice_active", condition=Q(reversed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount}"

    @property
    def is_active(self) -> bool:
        return self.reversed_at is None


class WriteOffReason(models.TextChoices):
    ROUNDING = "rounding", _("Rounding difference")
    BANK_FEE = "bank_fee", _("Bank fee deducted")
    SMALL_BALANCE = "small_balance", _("Small balance not worth collecting")
    OTHER = "other", _("Other")


class WriteOff(models.Model):
    """A small difference written off (within settings.PAYMENT_WRITE_OFF_LIMIT): what an invoice still
    lacks (short payment) or what a payment has left over (overpayment), never both."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="write_offs", verbose_name=_("invoice")
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="write_offs", verbose_name=_("payment")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    reason = models.CharField(_("reason"), max_length=20, choices=WriteOffReason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written off by"),
    )
    created_at = models.DateTimeField(_("written off"), auto_now_add=True)
    reversed_at = models.DateTimeField(_("undone"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("undone by")
    )

    class Meta:
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="write_off_amount_positive"),
            models.CheckConstraint(
                condition=Q(invoice__isnull=True, payment__isnull=False) | Q(invoice__isnull=False, payment__isnull=True),
                name="write_off_invoice_or_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ({self.get_reason_display()})"


class RefundState(models.TextChoices):
    TO_PAY = "to_pay", _("To pay")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Refund(FSMModelMixin, models.Model):
    """Money paid back to a customer against a credit note or an unused advance: finance records it
    (it waits in the "refunds to pay" queue), pays it and records the reference."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="refunds", verbose_name=_("customer")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default=settings.CURRENCY)
    state = StateField(_("state"), max_length=10, choices=RefundState.choices, default=RefundState.TO_PAY, protected=True)
    credit_note = models.ForeignKey(
        "billing.CreditNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("credit note"),
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds", verbose_name=_("advance (payment)")
    )
    method = models.CharField(_("method"), max_length=20, choices=REFUND_METHODS)
    payee_name = models.CharField(_("payee name"), max_length=200, blank=True)
    payee_account = models.CharField(_("payee account"), max_length=60, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-pk"]
        permissions = [("pay_refund", _("Can mark refunds paid"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(credit_note__isnull=True, payment__isnull=False) | Q(credit_note__isnull=False, payment__isnull=True),
                name="refund_credit_note_or_advance",
            ),
            models.CheckConstraint(condition=~Q(state=RefundState.PAID) | Q(paid_on__isnull=False), name="refund_paid_has_date"),
        ]
        indexes = [models.Index(fields=["state", "created_at", "id"], name="refund_state_queue")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("billing:refund_detail", args=[self.pk])

    @property
    def queue_label(self) -> str:
        return f"{self.number} · {self.customer.name} · {self.amount}"

    @property
    def timeline_event_model(self) -> type[RefundEvent]:
        return RefundEvent

    TRANSITION_LABELS = {"pay": _("mark paid"), "cancel": _("cancel")}

    @transition(field=state, source=RefundState.TO_PAY, target=RefundState.PAID, permission=PAY_REFUND_PERMISSION)
    def pay(self) -> None:
        """The money went out; the reference (bank slip, Alipay or WeChat transaction) is recorded."""

    @transition(field=state, source=RefundState.TO_PAY, target=RefundState.CANCELLED, permission=REFUND_PERMISSION)
    def cancel(self) -> None:
        """A refund not paid yet is withdrawn; the credit it held is the customer's again."""


class PaymentEvent(TimelineEvent):
    """The payment's timeline: recorded, allocated, undone, written off, refunded, the bill's steps, voided."""

    class Kind(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        ALLOCATED = "allocated", _("Allocated")
        ALLOCATION_UNDONE = "allocation_undone", _("Allocation undone")
        WRITTEN_OFF = "written_off", _("Written off")
        WRITE_OFF_UNDONE = "write_off_undone", _("Write-off undone")
        REFUND = "refund", _("Refund")
        TRANSITION = "transition", _("Status change")

    SUBJECT_FIELD = "payment"
    STATES = {**dict(PaymentRecordState.choices), **dict(BillState.choices)}
    WORDING = {
        Kind.RECORDED: lambda p: (
            gettext("Recorded %(amount)s received by %(method)s.")
            % {"amount": p["amount"], "method": dict(PaymentMethod.choices).get(p["method"], p["method"])}
        ),
        Kind.ALLOCATED: lambda p: (
            gettext("Allocated to %(items)s.") % {"items": ", ".join(f"{number}: {amount}" for number, amount in p["items"])}
        ),
        Kind.ALLOCATION_UNDONE: lambda p: (
            gettext("Allocation of %(amount)s to %(invoice)s undone.") % {"amount": p["amount"], "invoice": p["invoice"]}
        ),
        Kind.WRITTEN_OFF: lambda p: (
            gettext("%(amount)s written off (%(reason)s).")
            % {"amount": p["amount"], "reason": dict(WriteOffReason.choices).get(p["reason"], p["reason"])}
        ),
        Kind.WRITE_OFF_UNDONE: lambda p: gettext("Write-off of %(amount)s undone.") % {"amount": p["amount"]},
        Kind.REFUND: lambda p: (
            gettext("Refund %(number)s of %(amount)s recorded.") % {"number": p["number"], "amount": p["amount"]}
        ),
        Kind.TRANSITION: lambda p: _bill_step_text(p),
    }

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events", verbose_name=_("payment"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        ordering = ["at", "pk"]


def _bill_step_text(params: dict) -> str:
    if params.get("endorsee"):
        return gettext("Endorsed to %(endorsee)s.") % {"endorsee": params["endorsee"]}
    if params.get("discount_fee"):
        return gettext("Discounted; the bank kept a fee of %(fee)s.") % {"fee": params["discount_fee"]}
    if params.get("undone"):
        return ngettext("%(count)s allocation undone.", "%(count)s allocations undone.", params["undone"]) % {
            "count": params["undone"]
        }
    return ""


class RefundEvent(TimelineEvent):
    """The refund's timeline: requested, paid (with its reference), cancelled."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        TRANSITION = "transition", _("Status change")

    SUBJECT_FIELD = "refund"
    STATES = dict(RefundState.choices)
    WORDING = {
        Kind.REQUESTED: lambda p: gettext("Refund of %(amount)s to pay.") % {"amount": p["amount"]},
        Kind.TRANSITION: lambda p: (
            gettext("Paid, reference %(reference)s.") % {"reference": p["reference"]} if p.get("reference") else ""
        ),
    }

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="events", verbose_name=_("refund"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("refund event")
        verbose_name_plural = _("refund events")
        ordering = ["at", "pk"]
